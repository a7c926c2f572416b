#!/usr/bin/env bash
# Times the checks of issue 26 against their nearest peer command, same servers, same run:
# `probe tls starttls=smtp` vs `openssl s_client -starttls smtp` (Python asyncio SMTP server),
# `probe tls starttls=postgres` vs `openssl s_client -starttls postgres` (PostgreSQL, ssl=on),
# `probe tls starttls=ldap` vs `openssl s_client -starttls ldap` (OpenLDAP slapd),
# `probe tls` (its two post-quantum hellos always run) and with `require_pq` vs `openssl s_client`
# against `openssl s_server` (OpenSSL 3.0: it selects x25519, so `require_pq` fails),
# `probe domain` vs `curl` of the same RDAP URL (a fixed Python registry),
# `probe grpc` vs `curl --http2-prior-knowledge` posting the same Health/Check (grpcio server).
# With PRODCHECK_BASE_BIN=a binary built before the post-quantum hellos, one more row times the
# same `probe tls` with both binaries: what detection adds. Median of RUNS (default 3).
# Usage: scripts/bench-reach.sh [RUNS]   (PRODCHECK_BIN=path skips the release build; 127.0.0.1 only)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${1:-3}"
command -v openssl >/dev/null || { echo "openssl is required (apt-get install openssl)" >&2; exit 2; }
if [ -z "${PRODCHECK_BIN:-}" ]; then
  cargo build --release --locked --quiet --bin prodcheck
  BIN="${CARGO_TARGET_DIR:-target}/release/prodcheck"
else
  BIN="$PRODCHECK_BIN"
fi

WORK="$(mktemp -d)"; chmod 755 "$WORK"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 \
  -subj "/CN=Bench CA" -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$WORK/leaf.key" -out "$WORK/leaf.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$WORK/ext.cnf"
openssl x509 -req -in "$WORK/leaf.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
  -days 90 -extfile "$WORK/ext.cnf" -out "$WORK/leaf.pem" 2>/dev/null

SMTP="$(free_port)"
python3 scripts/bench-reach.py smtp "$SMTP" "$WORK/leaf.pem" "$WORK/leaf.key" 2>/dev/null & PIDS+=($!)
RDAP="$(free_port)"
python3 scripts/bench-reach.py rdap "$RDAP" 2>/dev/null & PIDS+=($!)
wait_port "$SMTP"; wait_port "$RDAP"
GRPC=""
if python3 -c 'import grpc, grpc_health' 2>/dev/null; then
  GRPC="$(free_port)"
  python3 scripts/bench-reach.py grpc "$GRPC" 2>/dev/null & PIDS+=($!)
  wait_port "$GRPC"
else
  echo "grpcio missing (python3 -m pip install grpcio grpcio-health-checking): the grpc row is skipped" >&2
fi
TLS="$(free_port)"
openssl s_server -accept "127.0.0.1:$TLS" -cert "$WORK/leaf.pem" -key "$WORK/leaf.key" -www -quiet \
  </dev/zero >/dev/null 2>&1 & PIDS+=($!)
wait_port "$TLS"
LDAP=""
SLAPD="$(command -v slapd || echo /usr/sbin/slapd)"
if [ -x "$SLAPD" ]; then
  LDAP="$(free_port)"
  # TLS 1.2+, ECDHE AEAD suites (Debian's default GnuTLS priority also serves TLS 1.0/1.1: a warning).
  printf 'pidfile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\nTLSProtocolMin 3.3\nTLSCipherSuite %s\n' \
    "$WORK/slapd.pid" "$WORK/leaf.pem" "$WORK/leaf.key" \
    'SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA' \
    > "$WORK/slapd.conf"
  "$SLAPD" -d 0 -f "$WORK/slapd.conf" -h "ldap://127.0.0.1:$LDAP/" >"$WORK/slapd.log" 2>&1 & PIDS+=($!)
  wait_port "$LDAP" || { cat "$WORK/slapd.log"; exit 1; }
else
  echo "slapd missing (apt-get install slapd): the ldap row is skipped" >&2
fi

# PostgreSQL with ssl=on, as `nobody` when run as root (postgres refuses root).
PG=""
PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[ -x "$PGBIN/initdb" ] || PGBIN="$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")"
if [ -x "$PGBIN/initdb" ]; then
  AS=(); [ "$(id -u)" = 0 ] && AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  mkdir -p "$WORK/pg"; chmod 700 "$WORK/pg"
  [ "$(id -u)" = 0 ] && chown nobody:nogroup "$WORK/pg"
  "${AS[@]}" "$PGBIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust --no-sync >/dev/null
  cp "$WORK/leaf.pem" "$WORK/pg/data/server.crt"; cp "$WORK/leaf.key" "$WORK/pg/data/server.key"
  [ "$(id -u)" = 0 ] && chown nobody:nogroup "$WORK/pg/data/server.crt" "$WORK/pg/data/server.key"
  chmod 600 "$WORK/pg/data/server.key"
  PG="$(free_port)"
  "${AS[@]}" "$PGBIN/postgres" -D "$WORK/pg/data" -p "$PG" -c listen_addresses=127.0.0.1 \
    -k "$WORK/pg/data" -c ssl=on -c fsync=off >"$WORK/pg.log" 2>&1 & PIDS+=($!)
  wait_port "$PG" || { cat "$WORK/pg.log"; exit 1; }
else
  echo "PostgreSQL not installed: the postgres rows are skipped" >&2
fi

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }
time_cmd() { local s e; s=$(now_ns); "$@" >/dev/null 2>&1 || true; e=$(now_ns); echo $(( (e - s) / 1000 )); }
ms() { awk -v us="$1" 'BEGIN {printf "%.1f ms", us / 1000}'; }
row() { # name, peer name, then the two commands as functions; STATUS: what $a must report
  local name="$1" peer="$2" a="$3" b="$4" A=() B=()
  { "$a" || true; } | grep -E "\"status\": *\"(${STATUS:-pass})\"" >/dev/null || { echo "$name did not ${STATUS:-pass}:"; "$a"; exit 1; }
  for _ in $(seq 1 "$RUNS"); do A+=("$(time_cmd "$a")"); B+=("$(time_cmd "$b")"); done
  local ma mb; ma=$(printf '%s\n' "${A[@]}" | median); mb=$(printf '%s\n' "${B[@]}" | median)
  printf '| %s | %s | %s: %s | %s |\n' "$name" "$(ms "$ma")" "$peer" "$(ms "$mb")" \
    "$(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.2f", a / b}')"
}

smtp_probe() { "$BIN" probe tls host=127.0.0.1 "port=$SMTP" "ca_file=$WORK/ca.pem" starttls=smtp enumerate=false --report json; }
smtp_enum() { "$BIN" probe tls host=127.0.0.1 "port=$SMTP" "ca_file=$WORK/ca.pem" starttls=smtp profile=old --report json; }
smtp_peer() { openssl s_client -connect "127.0.0.1:$SMTP" -starttls smtp -CAfile "$WORK/ca.pem" -verify_return_error </dev/null; }
pg_probe() { "$BIN" probe tls host=127.0.0.1 "port=$PG" "ca_file=$WORK/ca.pem" starttls=postgres enumerate=false --report json; }
pg_peer() { openssl s_client -connect "127.0.0.1:$PG" -starttls postgres -CAfile "$WORK/ca.pem" -verify_return_error </dev/null; }
domain_probe() { "$BIN" probe domain domain=bench.test "rdap_server=http://127.0.0.1:$RDAP/" --report json; }
domain_peer() { curl -fsS "http://127.0.0.1:$RDAP/domain/bench.test"; }
ldap_probe() { "$BIN" probe tls host=127.0.0.1 "port=$LDAP" "ca_file=$WORK/ca.pem" starttls=ldap enumerate=false --report json; }
ldap_peer() { openssl s_client -connect "127.0.0.1:$LDAP" -starttls ldap -CAfile "$WORK/ca.pem" -verify_return_error </dev/null; }
tls_probe() { "$BIN" probe tls host=127.0.0.1 "port=$TLS" "ca_file=$WORK/ca.pem" enumerate=false --report json; }
pq_probe() { "$BIN" probe tls host=127.0.0.1 "port=$TLS" "ca_file=$WORK/ca.pem" enumerate=false require_pq=true --report json; }
tls_peer() { openssl s_client -connect "127.0.0.1:$TLS" -CAfile "$WORK/ca.pem" -verify_return_error </dev/null; }
# The health request: gRPC frame (uncompressed, length 0: an empty HealthCheckRequest, service "").
printf '\x00\x00\x00\x00\x00' > "$WORK/grpc.req"
grpc_probe() { "$BIN" probe grpc "url=http://127.0.0.1:$GRPC" --report json; }
grpc_peer() { curl -fsS --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' \
  --data-binary @"$WORK/grpc.req" "http://127.0.0.1:$GRPC/grpc.health.v1.Health/Check" -o /dev/null; }

echo "| check | prodcheck | peer (same run) | ratio |"
echo "| --- | --- | --- | --- |"
row "\`tls starttls=smtp enumerate=false\`" "\`openssl s_client -starttls smtp\`" smtp_probe smtp_peer
# asyncio's start_tls hangs up without an alert on a refused suite: the scan may end incomplete
# (error) or not, by timing; this row times it whatever it concludes.
STATUS='[a-z]+' row "\`tls starttls=smtp\` (enumerating TLS 1.2 suites, each behind its own STARTTLS)" "\`openssl s_client -starttls smtp\`" smtp_enum smtp_peer
if [ -n "$PG" ]; then
  row "\`tls starttls=postgres enumerate=false\`" "\`openssl s_client -starttls postgres\`" pg_probe pg_peer
fi
if [ -n "$LDAP" ]; then
  row "\`tls starttls=ldap enumerate=false\`" "\`openssl s_client -starttls ldap\`" ldap_probe ldap_peer
fi
row "\`tls enumerate=false\` (hybrid and classic hellos included)" "\`openssl s_client\`" tls_probe tls_peer
if [ -n "${PRODCHECK_BASE_BIN:-}" ]; then
  base_probe() { "$PRODCHECK_BASE_BIN" probe tls host=127.0.0.1 "port=$TLS" "ca_file=$WORK/ca.pem" enumerate=false --report json; }
  row "\`tls enumerate=false\` (with the post-quantum hellos)" "the same probe by \`PRODCHECK_BASE_BIN\` (without them)" tls_probe base_probe
fi
STATUS=fail row "\`tls enumerate=false require_pq=true\` (OpenSSL 3.0 picks x25519: fails)" "\`openssl s_client\`" pq_probe tls_peer
row "\`domain\` (\`rdap_server\` set: one request)" "\`curl\` of the same RDAP URL" domain_probe domain_peer
if [ -n "$GRPC" ]; then
  row "\`grpc\` (h2c, \`Health/Check\` for the server)" "\`curl --http2-prior-knowledge\` posting the same request" grpc_probe grpc_peer
fi
