#!/usr/bin/env python3
"""The HTML report in a real browser: Debian's headless Chromium driven by Playwright.

Generates reports with the built binary (the demo's flawed service, run three times with a
sign-off in between so the history strip has columns; and a hostile local server whose headers
and body carry markup), opens each from its file in light and dark schemes and checks: no
console error, no request leaves the file, no dialog (no script ran), the failing items and
their fixes visible without interaction, the pictures present and sized, print media keeps
the failures open, and axe-core (the copy pinned PyPI package axe-playwright-python ships) finds no serious or critical
violation. Optionally writes the screenshot committed as docs/html-report.png.

    tests/browser/html_report_test.py --binary target/debug/prodcheck [--allow-missing]
                                      [--screenshot docs/html-report.png]

A missing Chromium, Playwright or axe-playwright-python fails, naming the package, unless --allow-missing:
then the skip is printed and listed in target/tmp/prodcheck-skipped-tests.txt.
"""

import argparse
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

# axe-playwright-python==0.1.8 (pinned in .ci/run and scripts/test.sh) vendors axe-core 4.12.1:
# installed by pip like Playwright, so no npm or Node.js is needed on the machine.
AXE_VERSION = "4.12.1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
SKIPPED_LIST = TARGET / "tmp" / "prodcheck-skipped-tests.txt"

# What the hostile server sends, where a report shows it.
HOSTILE_SERVER = "<script>alert(1)</script> evil/1.0"
HOSTILE_POWERED_BY = "</table></td><img src=x onerror=alert(2)>"
HOSTILE_BODY = "</table><script>alert(3)</script><!--"

failures = []


def check(condition, what):
    """Records a failed expectation (all are reported, then the test fails)."""
    if not condition:
        failures.append(what)
        print(f"  FAIL {what}", flush=True)
    return condition


def missing(what, install, allow):
    line = f"SKIPPED tests/browser/html_report_test.py: {what} is missing: {install}"
    if not allow:
        sys.exit(
            f"FAIL {what} is missing: {install}\n"
            "(scripts/test.sh installs it when run as root; --allow-missing-servers skips this test explicitly)"
        )
    print(line, file=sys.stderr)
    SKIPPED_LIST.parent.mkdir(parents=True, exist_ok=True)
    with SKIPPED_LIST.open("a") as f:
        f.write(line + "\n")
    sys.exit(0)


def hidden(name):
    """PRODCHECK_TEST_HIDE (`name,…` or `all`) makes a tool look missing, as in the Rust tests."""
    hide = os.environ.get("PRODCHECK_TEST_HIDE", "").split(",")
    return name in hide or "all" in hide


def find_chromium():
    if hidden("chromium-headless-shell"):
        return None
    for name in [os.environ.get("PRODCHECK_CHROMIUM", ""), "chromium-headless-shell", "chromium"]:
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def env():
    """prodcheck's environment: non-interactive, no proxy for 127.0.0.1."""
    e = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    e["CI"] = "true"
    e.pop("NO_COLOR", None)
    return e


def prodcheck(binary, args, cwd, codes=(0, 1)):
    ran = subprocess.run(
        [str(binary), *args], cwd=cwd, env=env(), capture_output=True, text=True, timeout=180
    )
    if ran.returncode not in codes:
        sys.exit(f"FAIL prodcheck {' '.join(args)} exited {ran.returncode}:\n{ran.stdout}{ran.stderr}")
    return ran


def axe_source(allow):
    """axe.min.js of AXE_VERSION from the pinned axe-playwright-python package."""
    try:
        import axe_playwright_python
    except ImportError:
        missing("axe-playwright-python", 'pip install "axe-playwright-python==0.1.8"', allow)
    text = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    if f"axe v{AXE_VERSION}" not in text[:200]:
        sys.exit(f"FAIL the installed axe-playwright-python does not ship axe-core {AXE_VERSION}")
    return text


class Hostile(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = HOSTILE_BODY.encode()
        self.send_response(200)
        self.send_header("Server", HOSTILE_SERVER)
        self.send_header("X-Powered-By", HOSTILE_POWERED_BY)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def version_string(self):
        return HOSTILE_SERVER

    def log_message(self, *args):
        pass


def demo_reports(binary, work):
    """Three demo runs sharing a state dir (a sign-off between the first two), the last with
    HTML and JSON reports."""
    state = work / ".prodcheck"
    prodcheck(binary, ["demo", "--state", str(state)], work)
    prodcheck(
        binary,
        ["signoff", "pre-deploy", "secrets-management", "--by", "Dana (security)",
         "--note", "every secret is a vault reference"],
        work, codes=(0,),
    )
    prodcheck(binary, ["demo", "--state", str(state)], work)
    prodcheck(
        binary,
        ["demo", "--state", str(state), "--report", "html=demo.html", "--report", "json=demo.json"],
        work,
    )
    return work / "demo.html", json.loads((work / "demo.json").read_text())


def hostile_report(binary, work):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        (work / "hostile.yaml").write_text(
            "name: hostile\nsections:\n  - name: Web\n    items:\n"
            f"      - id: grade\n        title: Headers graded\n        check: {{ security_headers: {{ url: \"{url}\" }} }}\n"
            f"      - id: server-header\n        title: Server is nginx\n        check: {{ http: {{ url: \"{url}\", expect: {{ headers: {{ server: nginx }} }} }} }}\n"
            f"      - id: body\n        title: Body says healthy\n        check: {{ http: {{ url: \"{url}\", expect: {{ body_contains: healthy }} }} }}\n"
        )
        prodcheck(binary, ["run", "hostile.yaml", "--report", "html=hostile.html",
                           "--report", "json=hostile.json"], work)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    return work / "hostile.html", json.loads((work / "hostile.json").read_text())


def open_page(context, path):
    """Opens the report; returns the page and what it did: console messages, errors,
    requests, dialogs."""
    seen = {"console": [], "errors": [], "requests": [], "dialogs": []}
    url = path.resolve().as_uri()

    def route(r):
        if r.request.url == url:
            r.continue_()
        else:
            r.abort()

    page = context.new_page()
    page.route("**/*", route)
    page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.goto(url, wait_until="load")
    return page, seen, url


def behaves(page, seen, url, label):
    check(not seen["console"], f"{label}: console messages {seen['console']}")
    check(not seen["errors"], f"{label}: page errors {seen['errors']}")
    check(seen["requests"] == [url], f"{label}: requests beyond the file {seen['requests']}")
    check(not seen["dialogs"], f"{label}: a script ran (dialogs {seen['dialogs']})")
    check(page.evaluate("document.scripts.length") == 0, f"{label}: <script> in the DOM")


def failing_items_visible(page, report, label):
    failing = [i for i in report["items"] if i["status"] in ("fail", "error", "declined")]
    check(failing, f"{label}: the report has failing items to look at")
    for item in failing:
        row = page.locator(f"#item-{item['id']}")
        check(row.is_visible(), f"{label}: row of {item['id']} visible")
        check(row.locator("details[open] summary").is_visible(), f"{label}: {item['id']} message open")
        if item.get("fix"):
            check(row.locator(".fix").is_visible(), f"{label}: {item['id']} fix visible")
        link = page.locator(f"#attention a[href='#item-{item['id']}']")
        check(link.is_visible(), f"{label}: {item['id']} listed under Needs attention")


def pictures_sized(page, selectors, label):
    width = page.viewport_size["width"]
    for selector, least in selectors:
        charts = page.locator(selector)
        check(charts.count() >= least, f"{label}: {selector} present ({charts.count()})")
        for i in range(charts.count()):
            svg = charts.nth(i)
            box = svg.bounding_box()
            check(box and box["width"] >= 300 and box["height"] >= 40,
                  f"{label}: {selector} #{i} sized ({box})")
            check(box and box["x"] + box["width"] <= width + 1, f"{label}: {selector} #{i} fits")
            check(svg.get_attribute("role") == "img"
                  and svg.locator("title").first.text_content().strip() != "",
                  f"{label}: {selector} #{i} has an accessible name")


def axe(context, path, source, label):
    page = context.new_page()
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.add_script_tag(content=source)
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,"
        " first: v.nodes[0] && v.nodes[0].html.slice(0, 200)}))"
    )
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    check(not serious, f"{label}: axe-core serious/critical violations {json.dumps(serious, indent=1)}")
    others = [f"{v['id']} ({v['impact']})" for v in result if v not in serious]
    if others:
        print(f"  note {label}: minor axe findings: {', '.join(others)}")
    page.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=str(TARGET / "debug" / "prodcheck"))
    parser.add_argument("--allow-missing", action="store_true")
    parser.add_argument("--screenshot", help="write the demo report's screenshot here")
    args = parser.parse_args()

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("python3 module `playwright`", "pip install 'playwright==1.65.3'", args.allow_missing)
    chromium = find_chromium()
    if not chromium:
        missing("`chromium-headless-shell`", "apt-get install chromium-headless-shell", args.allow_missing)
    binary = Path(args.binary).resolve()
    if not binary.is_file():
        sys.exit(f"FAIL no prodcheck binary at {binary}: build it first (cargo build)")
    source = axe_source(args.allow_missing)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        demo, demo_json = demo_reports(binary, work)
        hostile, hostile_json = hostile_report(binary, work)
        with sync_playwright() as p:
            for scheme, background in [("light", "rgb(255, 255, 255)"), ("dark", "rgb(13, 17, 23)")]:
                context = p.chromium.launch_persistent_context(
                    str(work / f"profile-{scheme}"), executable_path=chromium, headless=True,
                    args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900}, color_scheme=scheme,
                )
                label = f"demo ({scheme})"
                print(f"{label}", flush=True)
                page, seen, url = open_page(context, demo)
                behaves(page, seen, url, label)
                bg = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
                check(bg == background, f"{label}: page background {bg}, expected {background}")
                failing_items_visible(page, demo_json, label)
                pictures_sized(page, [
                    ("#figure-expiry svg", 1),
                    ("figure[id^='figure-grade-'] svg", 1),
                    ("figure[id^='figure-latency-'] svg", 1),
                    ("#figure-history svg", 1),
                ], label)
                runs = page.locator("#figure-history g.cell title").all_text_contents()
                check(len([t for t in runs if ": exit " in t]) == 3, f"{label}: three runs in the strip")
                if scheme == "light":
                    page.emulate_media(media="print")
                    failing_items_visible(page, demo_json, "demo (print)")
                    pdf = page.pdf()
                    check(len(pdf) > 10_000, f"demo (print): a PDF of {len(pdf)} bytes")
                    page.emulate_media(media="screen")
                    if args.screenshot:
                        bottom = page.locator("#pictures").bounding_box()
                        height = int(bottom["y"] + bottom["height"]) + 16 if bottom else 1800
                        page.screenshot(path=args.screenshot, full_page=True,
                                        clip={"x": 0, "y": 0, "width": 1280, "height": height})
                        print(f"  wrote {args.screenshot}")
                page.close()

                label = f"hostile ({scheme})"
                print(label, flush=True)
                page, seen, url = open_page(context, hostile)
                behaves(page, seen, url, label)
                check(page.evaluate("document.querySelectorAll('img, iframe, object').length") == 0,
                      f"{label}: no element from the target")
                for text in [HOSTILE_SERVER, HOSTILE_POWERED_BY, HOSTILE_BODY]:
                    check(page.get_by_text(text).count() >= 1, f"{label}: `{text}` shown as text")
                failing_items_visible(page, hostile_json, label)
                page.close()
                context.close()

                # axe-core is a script: it runs in a context that bypasses the page's CSP.
                context = p.chromium.launch_persistent_context(
                    str(work / f"profile-axe-{scheme}"), executable_path=chromium, headless=True,
                    args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900}, color_scheme=scheme,
                    bypass_csp=True,
                )
                axe(context, demo, source, f"demo ({scheme})")
                axe(context, hostile, source, f"hostile ({scheme})")
                context.close()

    if failures:
        sys.exit(f"FAIL {len(failures)} expectation(s) of the HTML report in the browser failed")
    print("ok: HTML report checked in Chromium (light, dark, print; axe-core "
          f"{AXE_VERSION}: no serious or critical violation)")


if __name__ == "__main__":
    main()
