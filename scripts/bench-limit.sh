#!/usr/bin/env bash
# Wall time of the shipped `pre-deploy` (every web item on one host) against a real nginx
# behind `limit_req` RATE r/s with a burst of BURST, next to the plan `prodcheck run -v` states:
# wall <= 1.2 x (requests beyond the burst / rate) + the slowest probe is the target.
#
# Usage: scripts/bench-limit.sh [RUNS]        (default 3 runs)
# Env:   PRODCHECK_BIN   use this binary instead of `cargo build --release`
#        RATE            the limiter's rate and prodcheck's --pace (default 5)
#        BURST           the limiter's burst (default 10)
# Needs: nginx (apt-get install nginx-light), openssl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${1:-3}"
RATE="${RATE:-5}"
BURST="${BURST:-10}"

for tool in nginx openssl python3; do
  command -v "$tool" >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
  command -v "$tool" >/dev/null 2>&1 || { echo "missing: $tool" >&2; exit 2; }
done

if [[ -z "${PRODCHECK_BIN:-}" ]]; then
  cargo build --release --locked --quiet --bin prodcheck
  PRODCHECK_BIN="${CARGO_TARGET_DIR:-target}/release/prodcheck"
fi

dir="$(mktemp -d)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
http_port="$(free_port)"
https_port="$(free_port)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 5 \
  -subj /CN=localhost -addext subjectAltName=DNS:localhost \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
mkdir -p "$dir/www/api" "$dir/www/assets" "$dir/www/.well-known" "$dir/dist"
echo '<!doctype html><title>shop</title>ok' >"$dir/www/index.html"
echo '{"status": "ok"}' >"$dir/www/health"
echo '[]' >"$dir/www/api/orders"
echo '[]' >"$dir/www/api/search"
for _ in $(seq 64); do echo "console.log('shop');"; done >"$dir/www/assets/app.js"
echo 'Contact: mailto:security@shop.example' >"$dir/www/.well-known/security.txt"
echo x >"$dir/dist/index-1.js"

# The same site as tests/integration/web_pre_deploy_limit.rs.
cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log $dir/error.log warn;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy; fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  log_format ts '\$msec \$status \$request_method \$request_uri';
  limit_req_zone \$binary_remote_addr zone=site:1m rate=${RATE}r/s;
  limit_req_status 429;
  map \$status \$retry_after { 429 1; default ""; }
  map \$http_origin \$cors_origin { "https://app.example" \$http_origin; default ""; }
  server { listen 127.0.0.1:$http_port; access_log $dir/access.log ts;
    limit_req zone=site burst=$BURST nodelay;
    add_header Retry-After \$retry_after always;
    location / { return 301 https://localhost:$https_port\$request_uri; } }
  server { listen 127.0.0.1:$https_port ssl; ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem;
    server_tokens off; access_log $dir/access.log ts;
    limit_req zone=site burst=$BURST nodelay;
    types { text/html html; application/javascript js; text/plain txt; }
    default_type application/json;
    gzip on; gzip_min_length 1; gzip_types application/javascript;
    add_header Retry-After \$retry_after always;
    add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;
    add_header Content-Security-Policy "default-src 'none'; frame-ancestors 'none'" always;
    add_header X-Content-Type-Options nosniff always;
    add_header X-Frame-Options DENY always;
    add_header Referrer-Policy no-referrer always;
    add_header Permissions-Policy "camera=()" always;
    add_header Set-Cookie "sessionid=abc123; Path=/; Secure; HttpOnly; SameSite=Lax" always;
    add_header Access-Control-Allow-Origin \$cors_origin always;
    add_header Vary Origin always;
    add_header Cache-Control "public, max-age=31536000" always;
    root $dir/www;
    location /admin { deny all; }
    location / { try_files \$uri /index.html; } }
}
EOF
nginx -p "$dir" -c "$dir/nginx.conf" &
nginx_pid=$!
cleanup() { kill "$nginx_pid" 2>/dev/null || true; wait "$nginx_pid" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$https_port") 2>/dev/null && break
  sleep 0.05
done

base="https://localhost:$https_port"
closed="$(free_port)"
for run in $(seq "$RUNS"); do
  : >"$dir/access.log"
  kill -USR1 "$nginx_pid" 2>/dev/null || true
  sleep 2 # the limiter's bucket refills between runs
  start="$(date +%s.%N)"
  "$PRODCHECK_BIN" run pre-deploy --non-interactive -v --pace "$RATE" --report json \
    --var "base_url=$base" --var "http_url=http://localhost:$http_port/" \
    --var "ca_file=$dir/cert.pem" --var "login_url=$base/login" \
    --var "static_asset_url=$base/assets/app.js" --var "ws_url=ws://127.0.0.1:$closed/" \
    --var "bundle_glob=$dir/dist/index-1.js" \
    --var staging_migration_status_command=true --var audit_command=true \
    --var test_command=true --var integration_test_command=true --var e2e_test_command=true \
    --var build_command=true --var load_test_command=true \
    >"$dir/report.json" 2>"$dir/stderr.txt" || true
  end="$(date +%s.%N)"
  python3 - "$start" "$end" "$dir/report.json" "$dir/stderr.txt" "$dir/access.log" "$run" <<'PY'
import json, re, sys
start, end, report, stderr, log, run = sys.argv[1:]
wall = float(end) - float(start)
items = json.load(open(report))["items"]
plan = [l for l in open(stderr) if l.startswith("plan: ")]
m = re.search(r": (\d+) paced requests at ([\d.]+)/s after a burst of ([\d.]+): at least ([\d.]+) s", plan[0])
requests, rate, burst, least = int(m[1]), float(m[2]), float(m[3]), float(m[4])
slowest = max(items, key=lambda i: i.get("duration_ms") or 0)
slow_s = (slowest.get("duration_ms") or 0) / 1000
lines = [l.split() for l in open(log)]
burst_at = min((float(l[0]) for l in lines if l[3] == "/api/search"), default=float("inf"))
tripped = sum(1 for l in lines if float(l[0]) < burst_at and l[1] == "429")
pacing = sum(1 for i in items if "own_limit" in json.dumps(i))
bound = 1.2 * least + slow_s
print(f"run {run}: wall {wall:.1f} s; plan {requests} paced requests at {rate:g}/s after a burst of "
      f"{burst:g}: at least {least:.1f} s; slowest probe `{slowest['id']}` {slow_s:.1f} s; "
      f"bound 1.2 x {least:.1f} + {slow_s:.1f} = {bound:.1f} s ({'within' if wall <= bound else 'OVER'}); "
      f"429s before rate-limiting: {tripped}; pacing errors: {pacing}")
PY
done
