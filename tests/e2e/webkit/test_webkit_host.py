"""What the WebKitGTK host app itself guarantees, against a stub site (no project pages): the
engine facts the flow tests rely on, so a WebKitGTK upgrade that changes one fails here first."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.webkit import WebKitError

pytestmark = pytest.mark.browser

PAGE = """<!doctype html><title>Stub</title>
<body data-js="off"><h1>Stub page</h1><noscript><p>Scripts are off</p></noscript>
<script>
  document.body.dataset.js = "on";
  window.webkit.messageHandlers.webviewBridge.postMessage(JSON.stringify({event: "OPEN"}));
  window.webkit.messageHandlers.webviewBridge.postMessage({event: "AN_OBJECT"});
</script>
<form method="post" action="/go"><label for="n">Name</label><input id="n" name="name">
<button>Send</button></form>
<a href="/plain">Plain link</a> <a href="wvbtest://direct?from=link">Back to the app</a>
<div hidden><button>Send</button></div>
"""


class Stub(BaseHTTPRequestHandler):
    seen: list[tuple[str, str, str | None, str | None]] = []

    def log_message(self, *args) -> None:
        pass

    def _record(self, body: str | None = None) -> None:
        Stub.seen.append((self.command, self.path, self.headers.get("Authorization"), body))

    def _send(self, status: int, body: bytes = b"", location: str | None = None) -> None:
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._record()
        if self.path.startswith("/hop"):
            self._send(302, location="/plain")
        elif self.path.startswith("/away"):  # another origin: same port, another host name
            self._send(302, location=f"http://localhost:{self.server.server_port}/plain")
        else:
            self._send(200, PAGE.encode())

    def do_POST(self) -> None:
        self._record(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self._send(302, location="wvbtest://callback?state=abc")


@pytest.fixture(scope="module")
def stub() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(autouse=True)
def fresh_log() -> None:
    Stub.seen.clear()


def test_messages_reach_the_handler_exactly_as_posted(webkit, stub):
    webkit.goto(stub + "/")
    webkit.wait_for(lambda: len(webkit.messages()) == 2, timeout=5, what="two messages")
    assert webkit.messages() == ['{"event":"OPEN"}', {"event": "AN_OBJECT"}]


def test_a_302_into_the_app_scheme_is_caught_and_not_loaded(webkit, stub):
    webkit.goto(stub + "/")
    webkit.fill("label=Name", "Ada")
    after = webkit.click('role=button[name="Send"]')  # the hidden second "Send" does not count
    assert after["redirects"] == ["wvbtest://callback?state=abc"] == webkit.redirects()
    assert after["url"] == stub + "/"  # the WebView stays on the page it was on
    assert Stub.seen[-1] == ("POST", "/go", None, "name=Ada")
    assert webkit.state()["navigations"][-1] == {"url": "wvbtest://callback?state=abc", "redirect": True,
                                                 "type": "form-submitted"}


def test_a_link_into_the_app_scheme_is_caught_too(webkit, stub):
    webkit.goto(stub + "/")
    webkit.click('role=link[name="Back to the app"]')
    assert webkit.redirects() == ["wvbtest://direct?from=link"]
    assert webkit.state()["navigations"][-1]["redirect"] is False


def test_headers_ride_on_the_first_load_and_its_same_origin_redirects_only(webkit, stub):
    webkit.goto(stub + "/hop", headers={"Authorization": "Bearer client-token"})
    webkit.click('role=link[name="Plain link"]')
    # WebKit keeps a loaded request's own headers across a same-origin redirect...
    assert [(method, path, auth) for method, path, auth, _ in Stub.seen] == [
        ("GET", "/hop", "Bearer client-token"), ("GET", "/plain", "Bearer client-token"), ("GET", "/plain", None)]
    Stub.seen.clear()
    # ...and drops Authorization when the redirect leaves the origin.
    assert webkit.goto(stub + "/away", headers={"Authorization": "Bearer client-token"})["url"].startswith("http://localhost:")
    assert [auth for _, _, auth, _ in Stub.seen] == ["Bearer client-token", None]


def test_javascript_off_stops_page_scripts_but_not_the_driver(webkit_host, stub):
    page = webkit_host.new_page(javascript=False)
    try:
        page.goto(stub + "/")
        assert page.evaluate("document.body.dataset.js") == "off"  # the page's script never ran
        assert "Scripts are off" in page.text()  # <noscript> shows, as in a WebView without JavaScript
        page.click('role=link[name="Plain link"]')  # the driver's scripts ran in between...
        assert page.evaluate("document.body.dataset.js") == "off"  # ...yet the next page's did not
        page.fill("label=Name", "Ada")
        page.click('role=button[name="Send"]')
        assert page.redirects() == ["wvbtest://callback?state=abc"]
        assert page.messages() == []
    finally:
        page.close()


def test_with_enable_javascript_false_the_host_can_only_read(webkit_host, stub):
    page = webkit_host.new_page(settings={"enable-javascript": False})
    try:
        page.goto(stub + "/")
        assert "<h1>Stub page</h1>" in page.html()  # from the main resource, not the DOM
        with pytest.raises(WebKitError, match="Cannot execute JavaScript"):
            page.evaluate("1")
    finally:
        page.close()


def test_snapshots_are_pngs_of_the_whole_page(webkit, stub, tmp_path):
    webkit.goto(stub + "/")
    size = webkit.screenshot(tmp_path / "stub.png")
    assert size["width"] == 390 and size["height"] >= 844
    assert (tmp_path / "stub.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert webkit.evaluate("innerWidth") == 390
