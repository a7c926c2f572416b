#!/usr/bin/env python3
"""Fleet benchmark (issues 17, 27): N loopback TLS targets x (tls + http + security_headers).

One nginx listens on N ports of 127.0.0.1 (one TLS server, a generated CA, security headers).
The same 3N probes are made three ways, in the same run, and each process is measured with
GNU time (-v): wall time, user+sys CPU, peak RSS.

  fleet   `prodcheck run bench --all-targets` (one process, N targets, history written; one
          unmeasured run first creates the history files, as a fleet's first run does once)
  serve   `prodcheck serve` answering N scrapes `/probe?checklist=bench&target=tK`
  blackbox  blackbox_exporter answering 3N scrapes `/probe?module=M&target=...`

For the two exporters, the scrapes come from this script (a thread pool, SCRAPERS at once)
and the CPU figure is the exporter's CPU during the scrapes (from /proc, start-up excluded;
the whole-process figure from GNU time is printed too). Everything stays on 127.0.0.1;
every wait is bounded. Servers are stopped by their PID.

TARGETS may list several fleet sizes (`TARGETS=1000,10000`): each size is set up and measured
in turn, all three ways, and a table of every size closes the output.

Env: PRODCHECK_BIN (required), WAYS (fleet,serve,blackbox: the ways measured), TARGETS (1000; a comma list for several sizes), RUNS (3), SCRAPERS (8), FLEET_CONCURRENCY (24),
     PORT_BASE (21000), TLS_ENUMERATE (0: the tls item does not enumerate suites; 1: default),
     KEEP_WORK (1: keep the generated nginx, prodcheck and blackbox configs).
"""

import concurrent.futures
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("PRODCHECK_BIN", "")
SIZES = [int(n) for n in os.environ.get("TARGETS", "1000").split(",") if n.strip()]
TARGETS = SIZES[0]  # the size being measured (set per size by main)
RUNS = int(os.environ.get("RUNS", "3"))
SCRAPERS = int(os.environ.get("SCRAPERS", "8"))
FLEET_CONCURRENCY = int(os.environ.get("FLEET_CONCURRENCY", "24"))
PORT_BASE = int(os.environ.get("PORT_BASE", "21000"))
ENUMERATE = os.environ.get("TLS_ENUMERATE", "0") == "1"
# WAYS=fleet measures the fleet run alone (quicker while working on it); the table then has no
# ratios for the ways left out.
WAYS = [w for w in os.environ.get("WAYS", "fleet,serve,blackbox").split(",") if w]
TIME = "/usr/bin/time"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def need(path_or_name):
    for d in os.environ.get("PATH", "").split(":") + ["/usr/sbin", "/sbin"]:
        p = os.path.join(d, path_or_name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    package = {"prometheus-blackbox-exporter": "prometheus-blackbox-exporter",
               "nginx": "nginx", "openssl": "openssl"}.get(path_or_name, path_or_name)
    sys.exit(f"missing: {path_or_name} (on Debian/Ubuntu: apt-get install {package})")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ports_free(base, n):
    for port in range(base, base + n):
        s = socket.socket()
        # As nginx binds: a port whose old connections are in TIME_WAIT is free.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def wait_listening(port, limit=30.0):
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on 127.0.0.1:{port} after {limit}s")


def stop(proc, limit=30.0):
    """SIGTERM the process (by PID), wait for it, SIGKILL if it does not go."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=limit)


def child_of(pid):
    """The PID of the (only) child of `pid`: the measured program under GNU time."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/task/{pid}/children") as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            pass
        time.sleep(0.01)
    sys.exit(f"no child of {pid}")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def gnu_time(path):
    text = open(path).read()

    def grab(label):
        m = re.search(re.escape(label) + r":\s*(\S+)", text)
        if not m:
            sys.exit(f"no `{label}` in GNU time output:\n{text}")
        return m.group(1)

    wall = grab("Elapsed (wall clock) time (h:mm:ss or m:ss)")
    parts = [float(p) for p in wall.split(":")]
    seconds = 0.0
    for p in parts:
        seconds = seconds * 60 + p
    return {
        "wall": seconds,
        "cpu": float(grab("User time (seconds)")) + float(grab("System time (seconds)")),
        "rss_mib": int(grab("Maximum resident set size (kbytes)")) / 1024,
    }


def setup(work):
    """CA, leaf, nginx on TARGETS ports, the prodcheck project and the blackbox config."""
    openssl = need("openssl")
    run = lambda *a: subprocess.run(a, check=True, cwd=work, capture_output=True)
    run(openssl, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key")
    run(openssl, "req", "-x509", "-new", "-key", "ca.key", "-days", "30", "-subj",
        "/CN=bench fleet CA", "-out", "ca.pem")
    run(openssl, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "leaf.key")
    run(openssl, "req", "-new", "-key", "leaf.key", "-subj", "/CN=localhost", "-out", "leaf.csr")
    with open(os.path.join(work, "leaf.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    run(openssl, "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "90", "-extfile", "leaf.ext", "-out", "leaf.pem")

    listens = "\n".join(f"    listen 127.0.0.1:{PORT_BASE + i} ssl;" for i in range(TARGETS))
    with open(os.path.join(work, "nginx.conf"), "w") as f:
        f.write(f"""daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile {max(16384, TARGETS + 4096)};
error_log {work}/nginx-error.log warn;
pid {work}/nginx.pid;
events {{ worker_connections {max(8192, TARGETS + 2048)}; }}
http {{
  access_log off;
  server_tokens off;
  default_type text/html;
  client_body_temp_path {work}/body; proxy_temp_path {work}/proxy;
  fastcgi_temp_path {work}/fastcgi; uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
  ssl_certificate {work}/leaf.pem;
  ssl_certificate_key {work}/leaf.key;
  ssl_protocols TLSv1.2 TLSv1.3;
  # Mozilla intermediate (ECDSA key): what the tls item's default profile accepts.
  ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305;
  ssl_prefer_server_ciphers off;
  ssl_session_cache off;
  ssl_session_tickets off;
  keepalive_requests 1000;
  server {{
{listens}
    add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;
    add_header Content-Security-Policy "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'" always;
    add_header X-Content-Type-Options nosniff always;
    add_header X-Frame-Options DENY always;
    add_header Referrer-Policy no-referrer always;
    add_header Permissions-Policy "geolocation=()" always;
    add_header Cross-Origin-Resource-Policy same-origin always;
    add_header Cross-Origin-Opener-Policy same-origin always;
    location / {{ return 200 "<!doctype html><title>ok</title>ok\\n"; }}
  }}
}}
""")
    ca = os.path.join(work, "ca.pem")
    os.makedirs(os.path.join(work, "checklists"), exist_ok=True)
    enumerate_ = "true" if ENUMERATE else "false"
    with open(os.path.join(work, "checklists", "bench.yaml"), "w") as f:
        f.write(f"""name: bench
title: One service of the fleet benchmark
vars:
  port: ~
  ca_file: ~
sections:
  - name: Fleet
    items:
      - id: tls
        title: TLS certificate valid, not close to expiry
        fix: renew it
        check: {{ tls: {{ host: 127.0.0.1, port: "${{port}}", ca_file: "${{ca_file}}", enumerate: {enumerate_} }} }}
      - id: http
        title: Home page answers 200
        fix: fix the service
        check: {{ http: {{ url: "https://127.0.0.1:${{port}}/", ca_file: "${{ca_file}}", expect: {{ status: 200 }} }} }}
      - id: headers
        title: Security headers graded B or better
        fix: add the headers
        check: {{ security_headers: {{ url: "https://127.0.0.1:${{port}}/", ca_file: "${{ca_file}}" }} }}
""")
    with open(os.path.join(work, "prodcheck.yaml"), "w") as f:
        f.write("environments:\n  bench:\n    vars: { ca_file: " + json.dumps(ca) + " }\ntargets:\n")
        for i in range(TARGETS):
            f.write(f"  t{i}: {{ env: bench, vars: {{ port: \"{PORT_BASE + i}\" }} }}\n")
    headers = [
        ("Strict-Transport-Security", r"max-age=\d+"),
        ("Content-Security-Policy", r".+"),
        ("X-Content-Type-Options", r"^nosniff$"),
        ("X-Frame-Options", r"(?i)^(deny|sameorigin)$"),
        ("Referrer-Policy", r".+"),
        ("Permissions-Policy", r".+"),
    ]
    matches = "\n".join(
        f"        - {{ header: {h}, regexp: '{r}' }}" for h, r in headers
    )
    with open(os.path.join(work, "blackbox.yml"), "w") as f:
        f.write(f"""modules:
  tls:
    prober: tcp
    timeout: 10s
    tcp:
      tls: true
      tls_config: {{ ca_file: {ca} }}
  http:
    prober: http
    timeout: 10s
    http:
      valid_status_codes: [200]
      fail_if_not_ssl: true
      tls_config: {{ ca_file: {ca} }}
  security_headers:
    prober: http
    timeout: 10s
    http:
      valid_status_codes: [200]
      fail_if_not_ssl: true
      tls_config: {{ ca_file: {ca} }}
      fail_if_header_not_matches:
{matches}
""")


def scrape_all(port, paths, check):
    """GETs every path on 127.0.0.1:port, SCRAPERS at once; `check(body)` must hold for each."""
    def one(path):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("GET", path, headers={"X-Prometheus-Scrape-Timeout-Seconds": "30"})
            r = conn.getresponse()
            body = r.read().decode()
        finally:
            conn.close()
        if r.status != 200 or not check(body):
            raise RuntimeError(f"{path}: {r.status}\n{body[:2000]}")

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(SCRAPERS) as pool:
        for f in concurrent.futures.as_completed([pool.submit(one, p) for p in paths]):
            f.result()
    return time.monotonic() - started


def exporter(argv, port, paths, check, cwd, log):
    """Starts `argv` under GNU time, scrapes it, stops it: wall (scrapes), CPU (scrapes), RSS."""
    timing = os.path.join(cwd, "time.txt")
    with open(log, "w") as err:
        proc = subprocess.Popen([TIME, "-v", "-o", timing] + argv, cwd=cwd,
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        pid = child_of(proc.pid)
        wait_listening(port)
        before = cpu_seconds(pid)
        wall = scrape_all(port, paths, check)
        during = cpu_seconds(pid) - before
        os.kill(pid, signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            stop(proc)
    whole = gnu_time(timing)
    return {"wall": wall, "cpu": during, "cpu_process": whole["cpu"], "rss_mib": whole["rss_mib"]}


def fleet_run(work):
    timing = os.path.join(work, "time.txt")
    report = os.path.join(work, "fleet.json")
    argv = [TIME, "-v", "-o", timing, BIN, "run", "bench", "--all-targets",
            "--concurrency", str(FLEET_CONCURRENCY), "--per-host", str(FLEET_CONCURRENCY),
            # Every target is on 127.0.0.1, and blackbox_exporter paces nothing: the highest pace
            # (the default 5 requests/s per host would make 1,000 targets take 400 s).
            "--pace", "100000",
            "--report", f"json={report}"]
    done = subprocess.run(argv, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          timeout=600)
    data = json.load(open(report))
    if done.returncode != 0 or data["summary"]["pass"] != 3 * TARGETS:
        bad = [i for i in data["items"] if i["status"] != "pass"][:3]
        sys.exit(f"fleet run: exit {done.returncode}, summary {data['summary']}: {bad}\n"
                 f"{done.stderr.decode()[-2000:]}")
    t = gnu_time(timing)
    return {"wall": t["wall"], "cpu": t["cpu"], "cpu_process": t["cpu"], "rss_mib": t["rss_mib"]}


def serve_run(work):
    port = free_port()
    argv = [BIN, "serve", "--listen", f"127.0.0.1:{port}", "--checklist", "bench",
            "--max-concurrent-runs", str(SCRAPERS)]
    paths = [f"/probe?checklist=bench&target=t{i}" for i in range(TARGETS)]
    ok = lambda body: re.search(r'^prodcheck_run_exit_code\{[^}]*\} 0$', body, re.M) and \
        body.count('status="pass"} 1') == 3
    return exporter(argv, port, paths, ok, work, os.path.join(work, "serve.log"))


def blackbox_run(work, binary):
    port = free_port()
    argv = [binary, f"--config.file={work}/blackbox.yml",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=error"]
    paths = []
    for i in range(TARGETS):
        p = PORT_BASE + i
        paths.append(f"/probe?module=tls&target=127.0.0.1:{p}")
        paths.append(f"/probe?module=http&target=https://127.0.0.1:{p}/")
        paths.append(f"/probe?module=security_headers&target=https://127.0.0.1:{p}/")
    ok = lambda body: re.search(r"^probe_success 1$", body, re.M) is not None
    return exporter(argv, port, paths, ok, work, os.path.join(work, "blackbox.log"))


def main():
    global TARGETS
    if not BIN:
        sys.exit("set PRODCHECK_BIN (scripts/bench-fleet.sh builds it)")
    nginx = need("nginx")
    blackbox = need("prometheus-blackbox-exporter")
    need("openssl")
    if not os.path.exists(TIME):
        sys.exit("missing: /usr/bin/time (apt-get install time)")
    tables = []
    for size in SIZES:
        TARGETS = size
        if not ports_free(PORT_BASE, TARGETS):
            sys.exit(f"ports {PORT_BASE}..{PORT_BASE + TARGETS - 1} are not all free; set PORT_BASE")
        work = tempfile.mkdtemp(prefix="prodcheck-bench-fleet-")
        try:
            tables.append(measure(work, nginx, blackbox))
        finally:
            if os.environ.get("KEEP_WORK") == "1":
                print(f"kept {work}")
            else:
                subprocess.run(["rm", "-rf", work], check=False)
    print(f"\nevery size, medians of {RUNS} (Markdown):\n")
    print("| targets | way | wall | CPU | CPU per probe | peak RSS | CPU × blackbox | RSS × blackbox |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for size, med in tables:
        b = med.get("blackbox")
        for k in WAYS:
            m = med[k]
            ratios = (f"{m['cpu'] / b['cpu']:.2f} | {m['rss_mib'] / b['rss_mib']:.2f}" if b
                      else "— | —")
            print(f"| {size:,} | {k} | {m['wall']:.2f} s | {m['cpu']:.2f} s | "
                  f"{1000 * m['cpu'] / (3 * size):.3f} ms | {m['rss_mib']:.1f} MiB | {ratios} |")


def measure(work, nginx, blackbox):
    setup(work)
    web = subprocess.Popen([nginx, "-p", work, "-c", f"{work}/nginx.conf"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(PORT_BASE)
        wait_listening(PORT_BASE + TARGETS - 1)
        # One unmeasured fleet run first: it creates the history files (two per target, with
        # their lock files), which a fleet run does once in its life, not on every run.
        fleet_run(work)
        results = {w: [] for w in WAYS}
        for run in range(RUNS):
            # Alternate the order so neither side always runs on a warmer machine.
            order = WAYS if run % 2 == 0 else WAYS[::-1]
            for what in order:
                r = {"fleet": lambda: fleet_run(work), "serve": lambda: serve_run(work),
                     "blackbox": lambda: blackbox_run(work, blackbox)}[what]()
                results[what].append(r)
                print(f"run {run + 1} {what:8}: wall {r['wall']:.2f}s, cpu {r['cpu']:.2f}s "
                      f"(process {r['cpu_process']:.2f}s), peak RSS {r['rss_mib']:.1f} MiB",
                      flush=True)
    finally:
        stop(web)
    probes = 3 * TARGETS
    med = {k: {m: statistics.median(r[m] for r in v) for m in v[0]} for k, v in results.items()}
    b = med.get("blackbox") or {"wall": float("nan"), "cpu": float("nan"), "rss_mib": float("nan")}
    print(f"\nmedians over {RUNS} run(s), {TARGETS} targets x 3 probes = {probes} probes "
          f"(tls enumerate: {ENUMERATE}):")
    print(f"{'':9} {'wall s':>8} {'CPU s':>7} {'ms CPU/probe':>13} {'probes/CPU-s':>13} "
          f"{'peak RSS MiB':>13} {'wall x':>7} {'CPU x':>6} {'RSS x':>6}")
    for k in WAYS:
        m = med[k]
        print(f"{k:9} {m['wall']:8.2f} {m['cpu']:7.2f} {1000 * m['cpu'] / probes:13.3f} "
              f"{probes / m['cpu']:13.0f} {m['rss_mib']:13.1f} {m['wall'] / b['wall']:7.2f} "
              f"{m['cpu'] / b['cpu']:6.2f} {m['rss_mib'] / b['rss_mib']:6.2f}")
    if "serve" in med and "blackbox" in med:
        print(f"(exporters: wall and CPU of the scrapes only; whole process CPU: serve "
              f"{med['serve']['cpu_process']:.2f}s, blackbox {b['cpu_process']:.2f}s)")
    return TARGETS, med


if __name__ == "__main__":
    main()
