#!/usr/bin/env bash
# Memory of a long `prodcheck watch`: the same three triggers (http, prometheus, latency) watched
# for 360, 3,600 and 7,200 evaluations (6 minutes, 1 hour and 2 hours at a 1 s interval, run at a
# 10 ms interval and `--pace 100000` so the hour takes about a minute), peak RSS of each, and the ratios to the shortest.
# Flat memory means the ratios stay near 1.
#
# Usage: scripts/bench-watch.sh
# Env:   PRODCHECK_BIN  use this binary instead of `cargo build --release`
# Needs: python3, GNU time (/usr/bin/time, apt-get install time).
set -euo pipefail
cd "$(dirname "$0")/.."

[[ -x /usr/bin/time ]] || { echo "missing: /usr/bin/time (apt-get install time)" >&2; exit 2; }
if [[ -z "${PRODCHECK_BIN:-}" ]]; then
  cargo build --release --locked --quiet --bin prodcheck
  PRODCHECK_BIN="${CARGO_TARGET_DIR:-target}/release/prodcheck"
fi

dir="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
# One local server answering a health check and a Prometheus instant query.
cat >"$dir/server.py" <<'EOF'
import http.server, json, socket, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def setup(self):
        super().setup()
        # Headers and body go out in two writes: without this, delayed ACKs add 40 ms each.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    def do_GET(self):
        if self.path.startswith("/api/v1/query"):
            body = json.dumps({"status": "success", "data": {"resultType": "vector",
                "result": [{"metric": {}, "value": [0, "0.012"]}]}}).encode()
        else:
            body = b'{"status":"ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
python3 "$dir/server.py" "$port" &
server=$!
trap 'kill "$server" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 50); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/health', timeout=1)" 2>/dev/null && break
  sleep 0.1
done

cat >"$dir/watch.yaml" <<EOF
name: bench-watch
stages: [{ name: canary }]
sections:
  - name: Triggers
    stages: [canary]
    items:
      - id: health
        title: health
        for: 5s
        check: { http: { url: "http://127.0.0.1:$port/health", expect: { status: 200 } } }
      - id: error-ratio
        title: error ratio
        for: 5s
        check: { prometheus: { url: "http://127.0.0.1:$port", query: "x", expect: "< 0.05" } }
      - id: latency
        title: latency
        for: 5s
        check: { latency: { url: "http://127.0.0.1:$port/health", samples: 5, concurrency: 1, p99: 2s } }
EOF

measure() { # evaluations → "peak_kib wall_s"
  local n=$1 window
  window="$(python3 -c "print(f'{($n - 1) * 10}ms')")"
  /usr/bin/time -f "%M %e" -o "$dir/time.txt" "$PRODCHECK_BIN" watch "$dir/watch.yaml" \
    --stage canary --for "$window" --every 10ms --pace 100000 --report "json=$dir/report-$n.json" \
    >/dev/null 2>"$dir/stderr-$n.txt" || { echo "watch failed:" >&2; tail "$dir/stderr-$n.txt" >&2; exit 1; }
  local got
  got="$(python3 -c "import json; print(json.load(open('$dir/report-$n.json'))['watch']['evaluations'])")"
  echo "$(cat "$dir/time.txt") $got"
}

echo "evaluations  simulated(1s)  evaluated  wall     peak RSS    ratio"
base=""
for n in 360 3600 7200; do
  read -r kib wall got < <(measure "$n")
  base="${base:-$kib}"
  printf "%11d  %13s  %9d  %5.1fs  %7.1f MiB  %5.2f\n" "$n" "$((n / 60))min" "$got" "$wall" \
    "$(python3 -c "print($kib/1024)")" "$(python3 -c "print($kib/$base)")"
done
