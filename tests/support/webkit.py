"""A second real WebView engine for the browser tests: WebKitGTK, embedded by a small host app
(tests/support/webkit_host.py) that behaves like an iOS app around WKWebView.

    host = WebKitHost.start()          # Xvfb + the host process, once per session (~0.6 s)
    page = host.new_page()             # a fresh WebView with its own cookies (~0.05 s)
    page.goto(url, headers={"Authorization": "Bearer …"})   # this load (and its same-origin 302s) only
    page.fill("label=Search banks", "sandbox")
    page.click('role=button[name="Sandbox Bank"]')          # waits for the navigation it starts
    page.wait_for(lambda: page.redirects(), timeout=10)
    page.events()                      # what bridge.js posted to webkit.messageHandlers.webviewBridge
    page.close(); host.stop()

Selectors: `role=ROLE[name="Accessible name"]`, `label=Label text` (exact, whitespace collapsed,
visible elements only, more than one match is an error), anything else is CSS.

The host runs on Debian's /usr/bin/python3 with Debian's PyGObject and WebKitGTK, which
scripts/install-system-deps.sh installs; the venv needs nothing more. Environment:
WVB_WEBKIT_PYTHON (another interpreter with `gi`), WVB_WEBKIT_DISPLAY=inherit (use $DISPLAY,
e.g. to watch the pages on a desktop, instead of a private Xvfb), WVB_WEBKIT_TRACE=1 (the
host logs every command, navigation and load with timestamps to its log).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HOST_SCRIPT = Path(__file__).with_name("webkit_host.py")
SYSTEM_PYTHON = os.environ.get("WVB_WEBKIT_PYTHON", "/usr/bin/python3")
INSTALL_HINT = "run scripts/install-system-deps.sh as root (make test does)"


class WebKitError(RuntimeError):
    pass


def _start_xvfb() -> tuple[subprocess.Popen, str]:
    """Xvfb on the first free display, which it reports on a pipe (-displayfd): no guessing."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise WebKitError(f"Xvfb is not installed: {INSTALL_HINT}")
    # setpriv (util-linux, always on Debian): Xvfb ends with the test run even if pytest is killed.
    reaper = ["setpriv", "--pdeathsig", "TERM", "--"] if shutil.which("setpriv") else []
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([*reaper, xvfb, "-displayfd", str(write_end), "-screen", "0", "1280x1024x24",
                             "-nolisten", "tcp", "-noreset"],
                            pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()  # blocks until Xvfb listens, or EOF if it died
    if not number:
        proc.kill()
        raise WebKitError("Xvfb did not start")
    return proc, f":{number}"


class WebKitHost:
    """The host process: one per test session, pages opened and closed per test."""

    def __init__(self, proc: subprocess.Popen, xvfb: subprocess.Popen | None, log_path: Path, home: str) -> None:
        self.proc, self.xvfb, self.log_path, self.home = proc, xvfb, log_path, home
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._next_id = 0
        self._answers: dict[int, dict] = {}
        self._pages: dict[str, Page] = {}
        self._ready = threading.Event()
        self._eof = False
        self._reader = threading.Thread(target=self._read, name="webkit-host-reader", daemon=True)
        self._reader.start()
        self._ready.wait(30)  # set by "ready", or when the host's output ends
        if self.proc.poll() is not None or not self._ready.is_set() or self._eof:
            self.stop()
            raise WebKitError(f"the WebKit host did not start ({INSTALL_HINT} if WebKitGTK, PyGObject "
                              f"or Xvfb is missing): {self.log_tail()}")
        self.versions = self.request("hello")

    @classmethod
    def start(cls, log_dir: Path | None = None) -> "WebKitHost":
        if not os.path.exists(SYSTEM_PYTHON):
            raise WebKitError(f"{SYSTEM_PYTHON} is missing: {INSTALL_HINT}")
        xvfb, display = (None, os.environ["DISPLAY"]) if os.environ.get("WVB_WEBKIT_DISPLAY") == "inherit" else _start_xvfb()
        home = tempfile.mkdtemp(prefix="wvb-webkit-")  # WebKit's caches and data: thrown away after
        log_path = Path(log_dir or home) / "webkit-host.log"
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")},
            "DISPLAY": display, "GDK_BACKEND": "x11", "NO_AT_BRIDGE": "1", "LANG": "C.UTF-8",
            "XDG_CACHE_HOME": f"{home}/cache", "XDG_DATA_HOME": f"{home}/data", "XDG_CONFIG_HOME": f"{home}/config",
            "XDG_RUNTIME_DIR": home, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1",
            "WVB_WEBKIT_TRACE": os.environ.get("WVB_WEBKIT_TRACE", ""),
        }
        log = open(log_path, "wb")
        proc = subprocess.Popen([SYSTEM_PYTHON, str(HOST_SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=log, env=env, cwd=home)
        log.close()
        try:
            return cls(proc, xvfb, log_path, home)
        except BaseException:
            if xvfb is not None:
                xvfb.kill()
            raise

    # --- the line protocol -----------------------------------------------------------------

    def _read(self) -> None:
        for line in self.proc.stdout:
            message = json.loads(line)
            with self._changed:
                if "id" in message:
                    self._answers[message["id"]] = message
                elif message["event"] == "ready":
                    self._ready.set()
                elif (page := self._pages.get(message.get("page"))) is not None:
                    page._hear(message)
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._ready.set()
            self._changed.notify_all()

    def request(self, cmd: str, *, wait: float = 30.0, **args: Any) -> Any:
        with self._changed:
            self._next_id += 1
            ident = self._next_id
        if self.proc.poll() is not None:
            raise WebKitError(f"the WebKit host has exited ({self.proc.returncode}): {self.log_tail()}")
        self.proc.stdin.write((json.dumps({"id": ident, "cmd": cmd, **args}) + "\n").encode())
        self.proc.stdin.flush()
        deadline = time.monotonic() + wait
        with self._changed:
            while ident not in self._answers:
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    raise WebKitError(f"{cmd}: no answer from the WebKit host in {wait} s: {self.log_tail()}")
                self._changed.wait(left)
            answer = self._answers.pop(ident)
        if not answer["ok"]:
            raise WebKitError(f"{cmd}: {answer['error']}")
        return answer["result"]

    def wait_for(self, predicate: Callable[[], Any], timeout: float, what: str | None = None) -> Any:
        """Re-checks `predicate` whenever the host reports something, and at least every 50 ms."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"waited {timeout} s for {what or getattr(predicate, '__name__', 'a condition')}")
            with self._changed:
                self._changed.wait(min(left, 0.05))

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    # --- pages -----------------------------------------------------------------------------

    def new_page(self, *, javascript: bool = True, width: int = 390, height: int = 844,
                 intercept: list[str] | None = None, user_agent: str | None = None,
                 settings: dict[str, Any] | None = None) -> "Page":
        """A fresh WebView. `javascript=False`: WebKitSettings enable-javascript off, so page
        scripts never run and <noscript> shows; the driver's own calls still work (the host turns
        JavaScript on for each call only). `intercept`: URL prefixes the app catches (default:
        every scheme but http(s), about, data, blob). `settings`: any WebKitSettings property,
        e.g. {"enable-javascript": False} (which, set this way, also stops the driver)."""
        options = {"javascript": javascript, "width": width, "height": height, "intercept": intercept,
                   "user_agent": user_agent, "settings": settings or {}}
        page_id = self.request("open_page", **options)
        page = Page(self, page_id)
        with self._changed:
            self._pages[page_id] = page
        return page

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                self.request("quit", wait=5)
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
        except (WebKitError, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(timeout=10)
        finally:
            if self.xvfb is not None:
                self.xvfb.terminate()
                self.xvfb.wait(timeout=10)
            if self.log_path.parent == Path(self.home):  # keep the log when it is all there is
                for folder in ("cache", "data", "config"):
                    shutil.rmtree(f"{self.home}/{folder}", ignore_errors=True)
            else:
                shutil.rmtree(self.home, ignore_errors=True)


class Page:
    """A WebView in the host app, driven synchronously."""

    def __init__(self, host: WebKitHost, page_id: str) -> None:
        self.host, self.id = host, page_id
        self._messages: list[Any] = []
        self._redirects: list[str] = []
        self._url: str | None = None
        self.closed = False

    def _hear(self, message: dict) -> None:  # on the reader thread, under the host's lock
        if message["event"] == "message":
            self._messages.append(message["value"])
        elif message["event"] == "redirect":
            self._redirects.append(message["url"])
        elif message["event"] == "load":
            self._url = message["url"]

    def _do(self, cmd: str, *, wait: float = 30.0, **args: Any) -> Any:
        return self.host.request(cmd, page=self.id, wait=wait, **args)

    # --- acting ------------------------------------------------------------------------------

    def goto(self, url: str, headers: dict[str, str] | None = None, timeout: float = 15.0) -> dict:
        """Loads `url` (with `headers` on this request only) and waits until it settles.
        Returns {"url", "title", "status", "error", "redirects"}."""
        return self._do("goto", wait=timeout + 5, url=url, headers=headers or {}, timeout=timeout)

    def click(self, selector: str, timeout: float = 10.0) -> dict:
        """Waits for one visible, enabled match, clicks it, and when the click submits a form or
        follows a link, waits until that navigation settles (a page loaded or a redirect caught)."""
        return self._do("click", wait=timeout + 20, selector=selector, timeout=timeout)

    def submit(self, selector: str, timeout: float = 10.0) -> dict:
        """Enter in the field `selector`: submits its form the way a keyboard's Go/Search key does,
        and waits for the navigation when page scripts do not take the submission over."""
        return self._do("submit", wait=timeout + 20, selector=selector, timeout=timeout)

    def fill(self, selector: str, value: str, timeout: float = 10.0) -> None:
        self._do("fill", wait=timeout + 5, selector=selector, value=value, timeout=timeout)

    def count(self, selector: str) -> int:
        """How many visible elements match, now."""
        return self._do("count", selector=selector)

    def visible(self, selector: str) -> bool:
        return self.count(selector) > 0

    def evaluate(self, script: str) -> Any:
        """Runs `script` in the driver's isolated world (page scripts cannot see it); its value as JSON."""
        return self._do("eval", script=script)

    def screenshot(self, path: Path | str, full_page: bool = True) -> dict:
        """A PNG of the page (webkit_web_view_get_snapshot); returns its width and height."""
        return self._do("snapshot", path=str(path), full_page=full_page)

    def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0, what: str | None = None) -> Any:
        try:
            return self.host.wait_for(predicate, timeout, what)
        except TimeoutError as error:
            state = self.state()
            raise TimeoutError(f"{error}; the page is at {state['url']} ({state['title']!r}), "
                               f"last load error: {state['error']}") from None

    def wait_for_selector(self, selector: str, timeout: float = 10.0) -> None:
        self.wait_for(lambda: self.visible(selector), timeout, selector)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.host.proc.poll() is None:
                self._do("close_page")

    # --- reading -----------------------------------------------------------------------------

    def text(self) -> str:
        return self._do("read", what="text")

    def html(self) -> str:
        return self._do("read", what="html")

    def url(self) -> str | None:
        return self._do("state")["url"]

    def title(self) -> str | None:
        return self._do("state")["title"]

    def state(self) -> dict:
        """url, title, status, error, redirects, every main-frame navigation and every message."""
        return self._do("state")

    def messages(self) -> list[Any]:
        """Every value posted to window.webkit.messageHandlers.webviewBridge, as posted."""
        with self.host._changed:
            return list(self._messages)

    def events(self) -> list[dict]:
        """The bridge messages decoded: bridge.js posts each one as a JSON string."""
        return [json.loads(m) for m in self.messages()]

    def redirects(self) -> list[str]:
        """The app-scheme URLs the host app caught (and did not load)."""
        with self.host._changed:
            return list(self._redirects)
