"""Bytes on the wire per screen (bank selection, our consent screen, and the sandbox bank's login
and consent pages for comparison) and load time in Chromium on a slow phone (Slow 4G: 150 ms,
1.6 Mbit/s down, 4x CPU slowdown), against a real `serve` process. Prints one JSON line.

    .venv/bin/python bench/pages.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys

import httpx2
from playwright.sync_api import sync_playwright

from _harness import Server

CHROMIUM = next(p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if os.path.exists(p))
ROUNDS = 7
SLOW_4G = {"offline": False, "latency": 150, "downloadThroughput": 1.6 * 1024 * 1024 / 8, "uploadThroughput": 750 * 1024 / 8}


def main() -> None:
    server = Server()
    try:
        tpp = server.create_app("tpp", "https://tpp.example/callback")
        token = httpx2.post(server.url + "/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(tpp["app_id"], tpp["app_secret"])).json()["access_token"]

        def new_request(**extra) -> str:
            body = {"resources": ["ACCOUNTS", "BALANCES"], "redirect_url": "https://tpp.example/callback",
                    "ref_id": "bench", "csrf_token": "c" * 32, **extra}
            return httpx2.post(server.url + "/token-requests", json=body, headers={"Authorization": f"Bearer {token}"}).json()["url"]

        results: dict[str, list[dict]] = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            context = browser.new_context(**{k: v for k, v in p.devices["Pixel 7"].items() if k != "default_browser_type"})
            context.route("https://tpp.example/**", lambda r: r.fulfill(status=200, body="ok"))
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
            cdp.send("Network.emulateNetworkConditions", SLOW_4G)
            cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})

            bucket: list[int] = []
            page.on("requestfinished", lambda r: bucket.append(r.sizes()["responseBodySize"] + r.sizes()["responseHeadersSize"]))

            def measure(name: str, action) -> None:
                bucket.clear()
                action()
                page.wait_for_load_state("load")
                timing = page.evaluate("(() => { const n = performance.getEntriesByType('navigation')[0];"
                                       " return [n.responseStart - n.startTime, n.loadEventEnd - n.startTime]; })()")
                results.setdefault(name, []).append(
                    {"bytes": sum(bucket), "requests": len(bucket), "ttfb_ms": round(timing[0]), "load_ms": round(timing[1])})

            page.goto(new_request())  # warm-up: the first navigation of a fresh tab also starts its renderer
            banks = len(httpx2.get(server.url + "/banks").json()["banks"])
            for _ in range(ROUNDS):
                url = new_request()
                # a link tap (renderer-initiated), so the network emulation applies as it does to the other screens
                measure("bank_selection", lambda: (page.evaluate("u => { location.href = u; }", url), page.wait_for_url(url)))
                measure("consent", lambda: page.get_by_role("button", name="Sandbox Bank", exact=True).click())
                # the sandbox bank's own pages are the bank's, not ours: measured for comparison only
                measure("bank_login (sandbox bank)", lambda: page.get_by_role("button", name="Allow", exact=True).click())
                page.get_by_label("Username").fill("alice")
                page.get_by_label("Password").fill("sandbox")
                measure("bank_consent (sandbox bank)", lambda: page.get_by_role("button", name="Log in").click())
                page.get_by_role("button", name="Confirm", exact=True).click()
                page.wait_for_url("https://tpp.example/**")
            browser.close()
        screens = {name: {key: int(statistics.median(r[key] for r in runs)) for key in runs[0]} for name, runs in results.items()}
        print(json.dumps({"benchmark": "pages", "profile": "Pixel 7, Slow 4G 150 ms 1.6 Mbit/s, CPU x4",
                          "rounds": ROUNDS, "statistic": "median", "banks_on_selection": banks, "screens": screens}))
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
