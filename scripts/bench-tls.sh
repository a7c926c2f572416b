#!/usr/bin/env bash
# Times `prodcheck probe tls` (without and with suite enumeration) against a bare
# `openssl s_client` handshake on the same loopback `openssl s_server` configured to the Mozilla
# intermediate profile (certificate generated here), median of RUNS each, and prints the ratios;
# then one run each of testssl.sh and sslscan when installed, for scale.
# Usage: scripts/bench-tls.sh [RUNS]   (builds the release binary first; 127.0.0.1 only)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS="${1:-15}"
command -v openssl >/dev/null || { echo "openssl is required (apt-get install openssl)" >&2; exit 2; }
cargo build --release --locked --quiet --bin prodcheck
BIN="${CARGO_TARGET_DIR:-target}/release/prodcheck"

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A CA and a leaf for 127.0.0.1 (EC P-256, like most production certificates today).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 \
  -subj "/CN=Bench CA" -keyout "$WORK/ca.key" -out "$WORK/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$WORK/leaf.key" -out "$WORK/leaf.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$WORK/ext.cnf"
openssl x509 -req -in "$WORK/leaf.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
  -days 90 -extfile "$WORK/ext.cnf" -out "$WORK/leaf.pem" 2>/dev/null

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
INTERMEDIATE="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305"
openssl s_server -accept "127.0.0.1:$PORT" -cert "$WORK/leaf.pem" -key "$WORK/leaf.key" -www \
  -cipher "$INTERMEDIATE" </dev/null >/dev/null 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.05
done

now_ns() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

time_cmd() { # prints wall-clock microseconds of "$@"
  local start end
  start=$(now_ns); "$@" >/dev/null 2>&1 || true; end=$(now_ns)
  echo $(( (end - start) / 1000 ))
}

probe() { "$BIN" probe tls host=127.0.0.1 "port=$PORT" "ca_file=$WORK/ca.pem" enumerate=false --report json; }
probe_enum() { "$BIN" probe tls host=127.0.0.1 "port=$PORT" "ca_file=$WORK/ca.pem" enumerate=true --report json; }
sclient() { openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$WORK/ca.pem" -verify_return_error </dev/null; }

# Sanity: both must succeed once before timing.
probe | grep -q '"status": *"pass"' || { echo "prodcheck probe did not pass:"; probe; exit 1; }
probe_enum | grep -q '"status": *"pass"' || { echo "prodcheck probe (enumerating) did not pass:"; probe_enum; exit 1; }
sclient 2>/dev/null | grep -q 'Verify return code: 0' || { echo "openssl s_client did not verify" >&2; exit 1; }

P=(); E=(); O=()
for _ in $(seq 1 "$RUNS"); do
  P+=("$(time_cmd probe)")
  E+=("$(time_cmd probe_enum)")
  O+=("$(time_cmd sclient)")
done
PM=$(printf '%s\n' "${P[@]}" | median)
EM=$(printf '%s\n' "${E[@]}" | median)
OM=$(printf '%s\n' "${O[@]}" | median)
CONNS=$(probe_enum | grep -o '"connections": *[0-9]*' | grep -o '[0-9]*$')
echo "runs: $RUNS (each a fresh process against openssl s_server on 127.0.0.1:$PORT)"
echo "prodcheck probe tls enumerate=false : median ${PM} us (handshake, chain analysis, 2 legacy-version hellos)"
echo "prodcheck probe tls enumerate=true  : median ${EM} us (the same plus ${CONNS} TLS 1.2 enumeration hellos)"
echo "openssl s_client                    : median ${OM} us (one verified handshake)"
awk -v p="$PM" -v o="$OM" 'BEGIN { printf "ratio prodcheck/openssl (no enumeration): %.2f\n", p / o }'
awk -v p="$EM" -v o="$OM" 'BEGIN { printf "ratio prodcheck/openssl (enumeration)   : %.2f\n", p / o }'
if command -v sslscan >/dev/null; then
  echo "sslscan (one run)                   : $(time_cmd sslscan --no-colour "127.0.0.1:$PORT") us"
fi
if command -v testssl >/dev/null; then
  echo "testssl.sh (one run, default checks): $(time_cmd testssl --quiet --color 0 --warnings off "127.0.0.1:$PORT") us"
fi
