"""WebKitGTK as a second WebView engine: one host app process (and one Xvfb) per session, a fresh
WebView with its own cookies per test. See tests/support/webkit.py."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.conftest import ARTIFACTS, Tpp
from tests.support.webkit import Page, WebKitHost

APP_CALLBACK = "wvbtest://callback"  # the app's private-use scheme, caught by the host app
_timings: dict[str, float | str] = {}


@pytest.fixture(scope="session")
def webkit_host() -> Iterator[WebKitHost]:
    ARTIFACTS.mkdir(exist_ok=True)
    started = time.monotonic()
    host = WebKitHost.start(log_dir=ARTIFACTS)  # its stderr: test-artifacts/webkit-host.log
    _timings["start"] = time.monotonic() - started
    _timings["versions"] = ", ".join(f"{k} {v}" for k, v in host.versions.items())
    yield host
    host.stop()


@pytest.fixture
def webkit(webkit_host: WebKitHost) -> Iterator[Page]:
    """A WebView as an iOS app embeds it: webviewBridge message handler, app scheme caught."""
    page = webkit_host.new_page()
    yield page
    page.close()


@pytest.fixture
def webkit_without_js(webkit_host: WebKitHost) -> Iterator[Page]:
    """The same with JavaScript turned off in the WebView (the test still drives it from the host)."""
    page = webkit_host.new_page(javascript=False)
    yield page
    page.close()


@pytest.fixture
def app_tpp(server, register_app) -> Iterator[Tpp]:
    """A TPP whose registered redirect URL is the app's own scheme."""
    client = Tpp(server, register_app("tpp", name="WebKit test app", redirect_urls=(APP_CALLBACK,)))
    yield client
    client.http.close()


def pytest_terminal_summary(terminalreporter) -> None:
    if "start" in _timings:
        terminalreporter.write_line(f"WebKit host started in {_timings['start']:.2f} s ({_timings['versions']})")
