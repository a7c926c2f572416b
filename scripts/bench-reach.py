#!/usr/bin/env python3
"""Loopback servers for scripts/bench-reach.sh: an SMTP server offering STARTTLS (asyncio's
server-side start_tls), a fixed RDAP registry (one domain object) and a gRPC server with the
standard health service (grpcio, h2c). 127.0.0.1 only.
Usage: bench-reach.py smtp PORT CERT KEY | bench-reach.py rdap PORT | bench-reach.py grpc PORT"""
import asyncio, json, ssl, sys, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


async def smtp(port, cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)

    async def handle(reader, writer):
        try:
            writer.write(b"220 bench ESMTP\r\n")
            await writer.drain()
            while True:
                line = await asyncio.wait_for(reader.readline(), 10)
                if not line:
                    break
                cmd = line.strip().upper()
                if cmd.startswith(b"EHLO"):
                    writer.write(b"250-bench\r\n250 STARTTLS\r\n")
                elif cmd == b"STARTTLS":
                    writer.write(b"220 go ahead\r\n")
                    await writer.drain()
                    await writer.start_tls(ctx)
                    await asyncio.wait_for(reader.read(1), 10)
                    break
                elif cmd == b"QUIT":
                    writer.write(b"221 bye\r\n")
                    break
                else:
                    writer.write(b"250 ok\r\n")
                await writer.drain()
        except Exception:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def rdap(port):
    expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=300)).strftime("%Y-%m-%dT%H:%M:%SZ")
    doc = json.dumps({"objectClassName": "domain", "ldhName": "bench.test", "status": ["active"],
                      "events": [{"eventAction": "expiration", "eventDate": expires}]}).encode()

    class H(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/rdap+json")
            self.send_header("Content-Length", str(len(doc)))
            self.end_headers()
            self.wfile.write(doc)

        def log_message(self, *a):
            pass

    ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()


def grpc_health(port):
    from concurrent import futures
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = health.HealthServicer()
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    server.wait_for_termination()


if sys.argv[1] == "smtp":
    asyncio.run(smtp(int(sys.argv[2]), sys.argv[3], sys.argv[4]))
elif sys.argv[1] == "grpc":
    grpc_health(int(sys.argv[2]))
else:
    rdap(int(sys.argv[2]))
