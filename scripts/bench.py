#!/usr/bin/env python3
"""prodcheck benchmarks: every figure is a median of several runs and a ratio against a
baseline measured in the same run. Traffic goes to 127.0.0.1 only.

Usage: scripts/bench.sh   (builds the release binary, then runs this)
"""
import gzip
import http.server
import json
import os
import resource
import shutil
import socketserver
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BIN = os.environ.get("PRODCHECK_BIN", os.path.join(os.path.dirname(__file__), "..", "target", "release", "prodcheck"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bomb = gzip.compress(b"\0" * (100 << 20), compresslevel=9)

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.startswith("/delay"):
            time.sleep(0.2)
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path.startswith("/big"):
            size = 200 << 20
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"a" * (1 << 20)
            try:
                for _ in range(200):
                    self.wfile.write(chunk)
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif self.path.startswith("/bomb"):
            self.send_response(200)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(self.bomb)))
            self.end_headers()
            self.wfile.write(self.bomb)
        else:
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 1024


def start_rust_delay_server():
    """The `delay_server` example (tokio + axum): answers after exactly 200 ms; a Python server
    parsing 200 simultaneous requests on one thread adds its own tens of milliseconds."""
    path = os.path.join(os.path.dirname(BIN), "examples", "delay_server")
    if not os.path.exists(path):
        return None, None
    proc = subprocess.Popen([path], stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline().strip())
    return proc, port


def start_delay_server():
    """An asyncio server answering every request after exactly 200 ms: a thread per
    connection would itself add tens of milliseconds under 200 concurrent requests."""
    import asyncio

    ready = threading.Event()
    box = {}

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                await asyncio.sleep(0.2)
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        box["port"] = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await server.serve_forever()

    threading.Thread(target=lambda: asyncio.run(main()), daemon=True).start()
    ready.wait()
    return box["port"]


def timed(cmd, runs=RUNS):
    """Median wall time of `cmd` in seconds, and the children's peak RSS in MiB."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_rss_mib(cmd):
    """Peak RSS of one run of `cmd`, from GNU time (a forked Python child would report the
    parent's pages copied before exec)."""
    out = subprocess.run(["/usr/bin/time", "-f", "%M", *cmd], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    return int(out.stderr.strip().splitlines()[-1]) / 1024


def checklist(path, n, url, timeout="10s", extra=""):
    with open(path, "w") as f:
        f.write("name: bench\nsections:\n  - name: S\n    items:\n")
        for i in range(n):
            f.write(f"      - id: item-{i}\n        title: Item {i}\n        timeout: {timeout}\n")
            f.write(f"        check: {{ http: {{ url: \"{url}\"{extra} }} }}\n")


def main():
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} not found: run `cargo build --release` first (scripts/bench.sh does)")
    server = Server(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{port}"
    tmp = tempfile.mkdtemp(prefix="prodcheck-bench-")
    results = {}
    try:
        run = [BIN, "--color", "never", "run", "--non-interactive", "--concurrency", "200"]

        # 1. Runner overhead: 200 items against a 200 ms server vs one item.
        many = os.path.join(tmp, "many.yaml")
        one = os.path.join(tmp, "one.yaml")
        delay_proc, rust_port = start_rust_delay_server()
        port = rust_port or start_delay_server()
        results["delay server"] = "tokio (examples/delay_server.rs)" if rust_port else "python asyncio"
        delay = f"http://127.0.0.1:{port}/delay"
        checklist(many, 200, delay)
        checklist(one, 1, delay)
        t200 = timed(run[:-2] + ["--concurrency", "200", many])
        t1 = timed(run + [one])
        results["runner: 200 items x 200 ms, wall (s)"] = round(t200, 3)
        results["runner: 1 item x 200 ms, wall (s)"] = round(t1, 3)
        results["runner overhead: wall(200) / 200 ms (target <= 1.15)"] = round(t200 / 0.2, 3)
        results["runner overhead: wall(200) / wall(1)"] = round(t200 / t1, 3)
        if shutil.which("curl"):
            t_curl = timed(["curl", "-s", "-o", "/dev/null", "-Z", "--parallel-max", "200"] + [delay] * 200)
            results["baseline: curl --parallel, 200 requests, wall (s)"] = round(t_curl, 3)
            results["runner: wall(200) / curl wall(200)"] = round(t200 / t_curl, 3)

        # 3. validate every shipped checklist, and start-up.
        shipped = os.path.join(os.path.dirname(__file__), "..", "checklists")
        t_validate = timed([BIN, "validate", shipped], runs=max(RUNS, 10))
        t_version = timed([BIN, "--version"], runs=max(RUNS, 10))
        t_true = timed(["true"], runs=max(RUNS, 10))
        results["validate shipped checklists (ms, target < 10)"] = round(t_validate * 1000, 2)
        results["--version start-up (ms, target < 10)"] = round(t_version * 1000, 2)
        results["baseline: `true` (ms)"] = round(t_true * 1000, 2)

        # 4. Peak RSS of a 500-item run.
        five = os.path.join(tmp, "five.yaml")
        checklist(five, 500, f"{base}/ok")
        results["peak RSS, 500 items (MiB, target < 25)"] = round(peak_rss_mib(run[:-2] + ["--concurrency", "16", five]), 1)

        # Memory stays bounded against a 200 MB body and a gzip bomb.
        big = os.path.join(tmp, "big.yaml")
        checklist(big, 1, f"{base}/big")
        bomb = os.path.join(tmp, "bomb.yaml")
        checklist(bomb, 1, f"{base}/bomb", extra=", expect: { body_contains: x }")
        results["peak RSS, 200 MB body (MiB)"] = round(peak_rss_mib(run + [big]), 1)
        results["peak RSS, gzip bomb 100 MB (MiB)"] = round(peak_rss_mib(run + [bomb]), 1)
        results["peak RSS, `true` baseline (MiB)"] = round(peak_rss_mib(["true"]), 1)
    finally:
        if "delay_proc" in locals() and delay_proc is not None:
            delay_proc.kill()
            delay_proc.wait()
        server.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    width = max(len(k) for k in results)
    for k, v in results.items():
        print(f"{k:<{width}}  {v}")
    print(json.dumps(results), file=sys.stderr)


if __name__ == "__main__":
    main()
