#!/usr/bin/env python3
"""A production-like service on 127.0.0.1, for trying prodcheck as a new user would.

nginx (TLS from an internal CA, HTTP->HTTPS redirect, security headers, `limit_req` 5 r/s with a
burst of 10 on /api/) in front of a small shop app, a real Prometheus scraping the app under a
job that is not called `api`, PostgreSQL and Redis. The app names its metrics the classic way
(`--convention prometheus`) or the OpenTelemetry way (`--convention otel`), and serves 3 % 5xx
with `--failing`. Everything runs in a temporary directory and stops on Ctrl-C (each process
by its PID). Nothing listens anywhere but 127.0.0.1.

    scripts/stack.py --convention otel --dir /tmp/shop   # prints the prodcheck.yaml to use
"""
import argparse, json, os, random, shutil, signal, socket, subprocess, sys, tempfile, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

VERSION = "1.4.2"
ASSET = "/static/app.3f2a1c9e.js"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Metrics:
    """Counters and a latency histogram, fed by the app's own requests and a bounded traffic loop."""

    BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

    def __init__(self, convention):
        self.convention = convention
        self.lock = threading.Lock()
        self.count = {}  # (route, status) -> n
        self.buckets = {}  # route -> [n per bucket]
        self.sums = {}

    def observe(self, route, status, seconds):
        with self.lock:
            self.count[(route, status)] = self.count.get((route, status), 0) + 1
            b = self.buckets.setdefault(route, [0] * len(self.BUCKETS))
            for i, le in enumerate(self.BUCKETS):
                if seconds <= le:
                    b[i] += 1
            self.sums[route] = self.sums.get(route, 0.0) + seconds

    def text(self):
        lines = []
        with self.lock:
            if self.convention == "otel":
                name, status, route = "http_server_request_duration_seconds", "http_response_status_code", "http_route"
                lines.append(f'target_info{{service_name="shop",service_version="{VERSION}"}} 1')
            else:
                name, status, route = "http_request_duration_seconds", "status", "handler"
                lines.append(f'shop_build_info{{version="{VERSION}"}} 1')
                for (r, s), n in sorted(self.count.items()):
                    lines.append(f'http_requests_total{{{route}="{r}",{status}="{s}",method="GET"}} {n}')
            lines.append(f"# TYPE {name} histogram")
            for r, b in sorted(self.buckets.items()):
                total = sum(n for (rr, _), n in self.count.items() if rr == r)
                for le, n in zip(self.BUCKETS, b):
                    lines.append(f'{name}_bucket{{{route}="{r}",le="{le}"}} {n}')
                lines.append(f'{name}_bucket{{{route}="{r}",le="+Inf"}} {total}')
                lines.append(f'{name}_sum{{{route}="{r}"}} {self.sums.get(r, 0.0)}')
                if self.convention != "otel":
                    lines.append(f'{name}_count{{{route}="{r}"}} {total}')
            if self.convention == "otel":
                for (r, s), n in sorted(self.count.items()):
                    lines.append(f'{name}_count{{{route}="{r}",{status}="{s}",http_request_method="GET"}} {n}')
        return "\n".join(lines) + "\n"


def app_handler(metrics, failing):
    class App(BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def send(self, status, body, ctype="application/json", headers=()):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in headers:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_GET(self):
            started = time.monotonic()
            path = self.path.split("?")[0]
            route, status = path, 200
            if path == "/healthz":
                self.send(200, json.dumps({"status": "ok", "version": VERSION}))
            elif path == "/":
                self.send(200, f'<!doctype html><title>Shop</title><a href="/login">Sign in</a>'
                               f'<script src="{ASSET}"></script>', "text/html")
            elif path == "/login":
                self.send(200, '<form method="post"><input name="user"></form>', "text/html",
                          [("Set-Cookie", "session=abc123; Path=/; Secure; HttpOnly; SameSite=Lax")])
            elif path == ASSET:
                self.send(200, "console.log('shop');\n", "application/javascript",
                          [("Cache-Control", "public, max-age=31536000, immutable")])
            elif path == "/api/products":
                route = "/api/products"
                status = 500 if failing and random.random() < 0.03 else 200
                self.send(status, json.dumps([{"id": 1, "name": "tea"}]) if status == 200 else '{"error":"boom"}')
            elif path == "/admin":
                status = 403
                self.send(403, '{"error":"forbidden"}')
            elif path == "/openapi.json":
                self.send(200, json.dumps({"openapi": "3.0.0", "paths": {"/api/products": {"get": {}}}}))
            elif path == "/metrics":
                self.send(200, metrics.text(), "text/plain; version=0.0.4")
                return
            else:
                status = 404
                self.send(404, '{"error":"not found"}')
            metrics.observe(route, str(status), time.monotonic() - started)

        do_HEAD = do_GET

    return App


NGINX = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
  access_log {dir}/nginx-access.log;
  client_body_temp_path {dir}/tmp; proxy_temp_path {dir}/tmp; fastcgi_temp_path {dir}/tmp;
  uwsgi_temp_path {dir}/tmp; scgi_temp_path {dir}/tmp;
  limit_req_zone $binary_remote_addr zone=api:1m rate=5r/s;
  server_tokens off;
  server {{
    listen 127.0.0.1:{http};
    return 301 https://localhost:{https}$request_uri;
  }}
  server {{
    listen 127.0.0.1:{https} ssl;
    server_name localhost;
    ssl_certificate {dir}/server.pem; ssl_certificate_key {dir}/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    add_header Strict-Transport-Security "max-age=63072000; includeSubDomains" always;
    add_header X-Content-Type-Options nosniff always;
    add_header X-Frame-Options DENY always;
    add_header Referrer-Policy strict-origin-when-cross-origin always;
    add_header Content-Security-Policy "default-src 'self'; frame-ancestors 'none'" always;
    location /api/ {{ limit_req zone=api burst=10 nodelay; proxy_pass http://127.0.0.1:{app}; }}
    location /metrics {{ return 404; }}
    location / {{ proxy_pass http://127.0.0.1:{app}; }}
  }}
}}
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--convention", choices=["prometheus", "otel"], default="prometheus")
    ap.add_argument("--failing", action="store_true", help="3 %% of /api/products answer 500")
    ap.add_argument("--dir", help="working directory (default: a new temporary one)")
    args = ap.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="prodcheck-stack-"))
    work.mkdir(parents=True, exist_ok=True)
    (work / "tmp").mkdir(exist_ok=True)
    procs = []

    def start(cmd, log, **kw):
        p = subprocess.Popen(cmd, stdout=open(work / log, "w"), stderr=subprocess.STDOUT, **kw)
        procs.append(p)
        return p

    # An internal CA and a server certificate for localhost.
    sh = lambda *c: subprocess.run(c, check=True, cwd=work, capture_output=True)
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", "ca.key", "-out", "ca.pem", "-days", "30", "-subj", "/CN=stack internal CA")
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (work / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                                  "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n")
    sh("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
       "-CAcreateserial", "-out", "server.crt", "-days", "90", "-extfile", "ext.cnf")
    (work / "server.pem").write_text((work / "server.crt").read_text() + (work / "ca.pem").read_text())

    ports = {k: free_port() for k in ["app", "http", "https", "prom", "pg", "redis"]}
    metrics = Metrics(args.convention)
    server = ThreadingHTTPServer(("127.0.0.1", ports["app"]), app_handler(metrics, args.failing))
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def traffic():  # bounded: 20 requests a second to the app itself, for at most 6 hours
        deadline = time.monotonic() + 6 * 3600
        import urllib.request
        while time.monotonic() < deadline and not stop.is_set():
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{ports['app']}/api/products", timeout=2).read()
            except Exception:
                pass
            stop.wait(0.05)

    stop = threading.Event()
    threading.Thread(target=traffic, daemon=True).start()

    (work / "nginx.conf").write_text(NGINX.format(dir=work, **ports))
    start(["nginx", "-c", str(work / "nginx.conf"), "-g", "daemon off;"], "nginx.out")
    (work / "prometheus.yml").write_text(
        "global: { scrape_interval: 5s, evaluation_interval: 5s }\n"
        "scrape_configs:\n"
        f"  - job_name: shop\n    static_configs: [{{ targets: ['127.0.0.1:{ports['app']}'] }}]\n"
        f"  - job_name: prometheus\n    static_configs: [{{ targets: ['127.0.0.1:{ports['prom']}'] }}]\n")
    start(["prometheus", f"--config.file={work}/prometheus.yml", f"--storage.tsdb.path={work}/tsdb",
           f"--web.listen-address=127.0.0.1:{ports['prom']}"], "prometheus.log")
    # PostgreSQL refuses to run as root: as root, it runs as `nobody` (setpriv execs, so the
    # PID recorded is the server's own).
    owner = []
    pg, sock = work / "pg", work / "pgsock"
    sock.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        import pwd
        nobody = pwd.getpwnam("nobody")
        owner = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups", "--"]
        pg.mkdir(exist_ok=True)
        for d in (pg, sock):
            os.chown(d, nobody.pw_uid, nobody.pw_gid)
        os.chmod(pg, 0o700)
    pg_bin = next((d for d in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
                   if (d / "initdb").exists()), None)
    initdb = str(pg_bin / "initdb") if pg_bin else "initdb"
    postgres = str(pg_bin / "postgres") if pg_bin else "postgres"
    if not (pg / "PG_VERSION").exists():
        sh(*owner, initdb, "-D", str(pg), "-U", "app", "--auth=trust")
    start(owner + [postgres, "-D", str(pg), "-k", str(sock), "-h", "127.0.0.1", "-p", str(ports["pg"])],
          "postgres.log")
    start(["redis-server", "--bind", "127.0.0.1", "--port", str(ports["redis"]), "--save", "",
           "--dir", str(work)], "redis.log")
    time.sleep(2)
    subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(ports["pg"]), "-U", "app", "app"],
                   capture_output=True)
    base = f"https://localhost:{ports['https']}"
    print(f"""# stack in {work} ({args.convention} metrics{', failing' if args.failing else ''}); Ctrl-C stops it
environments:
  staging:
    vars:
      base_url: {base}
      ca_file: {work}/ca.pem
      prometheus_url: http://127.0.0.1:{ports['prom']}
      database_url: postgres://app@127.0.0.1:{ports['pg']}/app?sslmode=disable
      redis_url: redis://127.0.0.1:{ports['redis']}
      version: "{VERSION}"
""", flush=True)
    (work / "ports.json").write_text(json.dumps(ports))

    def shutdown(*_):
        stop.set()
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        sys.exit(0)

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    while True:
        time.sleep(1)
        for p in procs:
            if p.poll() is not None:
                print(f"a process ended: {p.args[0]} (exit {p.returncode}); see {work}", file=sys.stderr)
                shutdown()


if __name__ == "__main__":
    main()
