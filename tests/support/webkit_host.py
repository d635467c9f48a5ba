#!/usr/bin/python3
"""A tiny native host app embedding the pages in WebKitGTK, the way an iOS app embeds them in
WKWebView: it registers the `webviewBridge` script message handler and records every message,
and its navigation policy catches the app's redirect scheme (even as a 302's Location), ignores
that navigation and records the URL.

It runs on Debian's own python3 with Debian's PyGObject (python3-gi, python3-gi-cairo) and
WebKitGTK 4.1 (gir1.2-webkit2-4.1), under an X server (Xvfb) named by $DISPLAY. Only the
standard library and `gi` are imported: the project's venv is not needed here.

Driven by tests/support/webkit.py over stdin/stdout, one JSON object per line:
  in:  {"id": 1, "cmd": "goto", "page": "p1", "url": "...", "headers": {...}}
  out: {"id": 1, "ok": true, "result": ...}  or  {"id": 1, "ok": false, "error": "..."}
and, unasked, {"event": "message" | "redirect" | "load", "page": "p1", ...} as things happen.
Commands: hello, open_page, close_page, goto, click, submit, fill, count, eval, read, state, snapshot,
quit.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import GLib, Gtk, WebKit2  # noqa: E402

WORLD = "webview-bridge-test-driver"  # an isolated world: page scripts never see the driver
POLL_MS = 25  # how often a command waiting for an element looks again

# Finds elements the way the tests name them (PROTOCOL §6 accessible names):
#   role=button[name="Allow"]   label=Username   css (anything else)
# Only visible elements count; `name` and `label` match exactly after collapsing whitespace.
DRIVER_JS = r"""
if (!window.__wvbDriver) window.__wvbDriver = (function () {
  "use strict";
  var norm = function (s) { return (s || "").replace(/\s+/g, " ").trim(); };
  function shown(el) {
    if (!el.isConnected) return false;
    var st = getComputedStyle(el);
    return st.visibility !== "hidden" && el.getClientRects().length > 0;
  }
  function textOf(node) {
    var out = "";
    for (var c = node.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 3) { out += c.data; continue; }
      if (c.nodeType !== 1 || c.hidden || c.getAttribute("aria-hidden") === "true") continue;
      var st = getComputedStyle(c);
      if (st.display === "none" || st.visibility === "hidden") continue;
      var part = c.getAttribute("aria-label") || (c.tagName === "IMG" ? c.alt || "" : textOf(c));
      out += st.display.indexOf("inline") === 0 ? part : " " + part + " ";
    }
    return out;
  }
  function byIds(ids) {
    return ids.split(/\s+/).map(function (id) { var e = document.getElementById(id); return e ? textOf(e) : ""; }).join(" ");
  }
  function labelOf(el) {
    if (el.getAttribute("aria-labelledby")) return norm(byIds(el.getAttribute("aria-labelledby")));
    if (el.getAttribute("aria-label")) return norm(el.getAttribute("aria-label"));
    if (el.labels && el.labels.length) return norm(Array.prototype.map.call(el.labels, textOf).join(" "));
    return "";
  }
  function nameOf(el) {
    var label = labelOf(el);
    if (label) return label;
    var tag = el.tagName;
    if (tag === "INPUT" && /^(submit|button|reset)$/i.test(el.type)) return norm(el.value || (el.type === "submit" ? "Submit" : ""));
    if (tag === "IMG") return norm(el.alt);
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return norm(el.title || el.placeholder || "");
    return norm(textOf(el)) || norm(el.title);
  }
  var INPUT_ROLES = { checkbox: "checkbox", radio: "radio", search: "searchbox", range: "slider", submit: "button",
                      button: "button", reset: "button", image: "button", number: "spinbutton" };
  function roleOf(el) {
    var explicit = el.getAttribute("role");
    if (explicit) return explicit.split(/\s+/)[0];
    var tag = el.tagName;
    if (tag === "BUTTON") return "button";
    if (tag === "A" || tag === "AREA") return el.hasAttribute("href") ? "link" : "";
    if (/^H[1-6]$/.test(tag)) return "heading";
    if (tag === "SELECT") return el.multiple || el.size > 1 ? "listbox" : "combobox";
    if (tag === "TEXTAREA") return "textbox";
    if (tag === "INPUT") {
      var t = (el.getAttribute("type") || "text").toLowerCase();
      if (t === "hidden") return "";
      return INPUT_ROLES[t] || (t === "password" ? "" : "textbox");
    }
    return "";
  }
  function find(selector) {
    var m, all;
    if ((m = /^role=([a-z]+)(?:\[name="(.*)"\])?$/.exec(selector))) {
      var role = m[1], name = m[2] === undefined ? null : norm(m[2]);
      all = Array.prototype.filter.call(document.querySelectorAll("*"), function (el) {
        return roleOf(el) === role && (name === null || nameOf(el) === name);
      });
    } else if ((m = /^label=(.*)$/.exec(selector))) {
      var wanted = norm(m[1]);
      all = Array.prototype.filter.call(document.querySelectorAll("input, select, textarea, button, [role]"), function (el) {
        return el.type !== "hidden" && labelOf(el) === wanted;
      });
    } else {
      all = Array.prototype.slice.call(document.querySelectorAll(selector));
    }
    return all.filter(shown);
  }
  function one(selector) {
    var found = find(selector);
    if (found.length > 1) throw new Error(selector + " matches " + found.length + " visible elements");
    return found[0] || null;
  }
  // Clicks like a tap, and says whether the click starts a navigation (a form submitted or a
  // link followed that no page script prevented), so the host knows whether to wait for one.
  function click(selector) {
    var el = one(selector);
    if (!el) return { found: false };
    if (el.disabled) return { found: false, disabled: true };
    el.scrollIntoView({ block: "center", inline: "center" });
    var navigates = false;
    function onSubmit(e) { if (!e.defaultPrevented) navigates = true; }
    function onClick(e) {
      var a = e.target.closest && e.target.closest("a[href], area[href]");
      if (a && !e.defaultPrevented && !/^(javascript:|#)/i.test(a.getAttribute("href"))) navigates = true;
    }
    window.addEventListener("submit", onSubmit);
    window.addEventListener("click", onClick);
    try { el.click(); } finally {
      window.removeEventListener("submit", onSubmit);
      window.removeEventListener("click", onClick);
    }
    return { found: true, navigates: navigates };
  }
  function fill(selector, value) {
    var el = one(selector);
    if (!el) return { found: false };
    if (el.disabled || el.readOnly) return { found: false, disabled: true };
    el.scrollIntoView({ block: "center" });
    el.focus();
    if (el.tagName === "SELECT") el.value = value;
    else if (el.type === "checkbox" || el.type === "radio") el.checked = !!value;
    else el.value = value;
    el.dispatchEvent(new Event("input", { bubbles: true }));
    el.dispatchEvent(new Event("change", { bubbles: true }));
    return { found: true };
  }
  // Enter in a field: the form's implicit submission (its default button, or a plain submit).
  function submit(selector) {
    var el = one(selector);
    if (!el) return { found: false };
    if (!el.form) throw new Error(selector + " is not in a form");
    var navigates = false;
    function onSubmit(e) { if (!e.defaultPrevented) navigates = true; }
    window.addEventListener("submit", onSubmit);
    try {
      var button = el.form.querySelector("button:not([type]), button[type=submit], input[type=submit], input[type=image]");
      if (button && !button.disabled) button.click(); else el.form.requestSubmit();
    } finally { window.removeEventListener("submit", onSubmit); }
    return { found: true, navigates: navigates };
  }
  return { find: find, click: click, fill: fill, submit: submit, nameOf: nameOf, roleOf: roleOf };
})();
"""


TRACE = os.environ.get("WVB_WEBKIT_TRACE") == "1"


def trace(*what) -> None:
    if TRACE:
        print(f"{time.monotonic():.3f}", *what, file=sys.stderr, flush=True)


# The protocol owns the original stdout; anything a library prints goes to stderr (the log).
PROTOCOL = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)


def out(obj: dict) -> None:
    PROTOCOL.write(json.dumps(obj) + "\n")
    PROTOCOL.flush()


def js_value(result):
    """The JSCValue of a script message or an evaluation, as plain JSON-able Python."""
    value = result.get_js_value() if hasattr(result, "get_js_value") else result
    if value.is_undefined():
        return None
    return json.loads(value.to_json(0) or "null")


class Page:
    """One WebView in its own offscreen window, with its own ephemeral cookies and storage."""

    def __init__(self, host: "Host") -> None:
        self.host = host
        self.id: str | None = None  # given when the page is handed to a test (see Host.spare)
        self.intercept: list[str] | None = None
        self.messages: list = []
        self.redirects: list[str] = []
        self.navigations: list[dict] = []
        self.loads_finished = 0
        self.last_error: str | None = None
        self.waiters: list = []
        self.scripts_off = False

        self.content = WebKit2.UserContentManager()
        self.content.connect("script-message-received::webviewBridge", self._on_message)
        self.content.register_script_message_handler("webviewBridge")

        self.settings = WebKit2.Settings()
        # No GPU under Xvfb: accelerated compositing there runs through software GL and costs
        # 0.1-0.7 s per navigation; plain software painting is what the tests need.
        self.settings.set_hardware_acceleration_policy(WebKit2.HardwareAccelerationPolicy.NEVER)
        self.settings.set_enable_developer_extras(False)
        self.settings.set_enable_page_cache(False)
        self.settings.set_javascript_can_open_windows_automatically(False)

        self.view = WebKit2.WebView(is_ephemeral=True, user_content_manager=self.content, settings=self.settings)
        self.view.connect("decide-policy", self._on_policy)
        self.view.connect("load-changed", self._on_load_changed)
        self.view.connect("load-failed", self._on_load_failed)
        self.view.connect("web-process-terminated", self._on_crash)
        self.window = Gtk.OffscreenWindow()
        self.window.add(self.view)
        self.window.show_all()

    def configure(self, page_id: str, *, javascript: bool = True, width: int = 390, height: int = 844,
                  intercept: list[str] | None = None, user_agent: str | None = None, settings: dict | None = None) -> None:
        self.id = page_id
        self.intercept = intercept  # URL prefixes the app catches; None: every non-web scheme
        self.navigations.clear()
        # JavaScript off, as in a WebView whose app turned it off (enable-javascript=False): page
        # scripts never run and <noscript> shows. WebKit then refuses the host's own scripts too
        # ("Cannot execute JavaScript in this document"), so `evaluate` turns JavaScript on just
        # for the driver's call and off again before anything else reaches the web process.
        # (enable-javascript-markup=False would keep the driver working without that, but
        # WebKit then counts scripting as on and hides <noscript>: not what a user sees.)
        self.scripts_off = not javascript
        self.settings.set_enable_javascript(javascript)
        if user_agent:
            self.settings.set_user_agent(user_agent)
        else:
            self.settings.set_user_agent_with_application_details("WebViewBridgeTestHost", "1")
        for name, value in (settings or {}).items():
            self.settings.set_property(name, value)
        self.view.set_size_request(width, height)
        self.window.resize(width, height)

    # --- what the host app hears -------------------------------------------------------------

    def _tell(self, event: dict) -> None:
        if self.id is not None:
            out(event)

    def _on_message(self, _manager, result) -> None:
        value = js_value(result)
        self.messages.append(value)
        self._tell({"event": "message", "page": self.id, "value": value})
        self._check()

    def _caught(self, uri: str) -> bool:
        if self.intercept is not None:
            return any(uri.startswith(prefix) for prefix in self.intercept)
        return uri.split(":", 1)[0].lower() not in ("http", "https", "about", "data", "blob")

    def _on_policy(self, _view, decision, kind) -> bool:
        if kind != WebKit2.PolicyDecisionType.NAVIGATION_ACTION:
            return False  # new windows, responses: WebKit's defaults
        action = decision.get_navigation_action()
        uri = action.get_request().get_uri()
        trace(self.id, "navigation", uri, "redirect" if action.is_redirect() else "")
        self.navigations.append({"url": uri, "redirect": action.is_redirect(),
                                 "type": action.get_navigation_type().value_nick})
        if self._caught(uri):
            # WKNavigationDelegate decidePolicyFor: the app handles its own URL and cancels the load.
            decision.ignore()
            self.redirects.append(uri)
            self._tell({"event": "redirect", "page": self.id, "url": uri, "after_redirect": action.is_redirect()})
            GLib.idle_add(self._check)
            return True
        return False

    def _on_load_changed(self, view, event) -> None:
        trace(self.id, "load", event.value_nick, view.get_uri())
        if event == WebKit2.LoadEvent.STARTED:
            self.last_error = None
        if event == WebKit2.LoadEvent.FINISHED:
            self.loads_finished += 1
            self._tell({"event": "load", "page": self.id, "url": view.get_uri()})
        self._check()

    def _on_load_failed(self, _view, _event, uri, error) -> bool:
        self.last_error = f"{uri}: {error.message}"
        return False

    def _on_crash(self, _view, reason) -> None:
        self.last_error = f"the web process ended ({reason.value_nick})"
        for waiter in list(self.waiters):
            waiter(crashed=True)

    # --- waiting ---------------------------------------------------------------------------

    def _check(self, **_) -> bool:
        for waiter in list(self.waiters):
            waiter()
        return False

    def after_navigation(self, reply, fail, timeout: float, since: tuple[int, int]) -> None:
        """Calls `reply` once the navigation begun after `since` has settled: a page finished
        loading (or failed to), or the app caught its redirect URL and nothing is loading."""
        loads, caught = since
        deadline = GLib.timeout_add(int(timeout * 1000), lambda: done(timed_out=True))

        def done(timed_out: bool = False, crashed: bool = False):
            settled = not self.view.is_loading() and (self.loads_finished > loads or len(self.redirects) > caught)
            if not (settled or timed_out or crashed):
                return False
            self.waiters.remove(done)
            if not timed_out:
                GLib.source_remove(deadline)
            if crashed:
                fail(self.last_error)
            elif settled:
                reply(self.state())
            else:
                fail(f"no navigation settled within {timeout} s (at {self.view.get_uri()}, "
                     f"loading={self.view.is_loading()}, last error: {self.last_error})")
            return False

        self.waiters.append(done)
        done()

    def state(self) -> dict:
        resource = self.view.get_main_resource()
        response = resource.get_response() if resource else None
        return {"url": self.view.get_uri(), "title": self.view.get_title(),
                "status": response.get_status_code() if response else None,
                "error": self.last_error, "redirects": list(self.redirects)}

    # --- running the driver's scripts ---------------------------------------------------------

    def evaluate(self, source: str, on_value, on_error) -> None:
        def finished(view, result, _data):
            if self.scripts_off:
                self.settings.set_enable_javascript(False)
            try:
                value = js_value(view.evaluate_javascript_finish(result))
            except GLib.Error as error:
                on_error(error.message)
            else:
                on_value(value)
        if self.scripts_off:
            # Settings reach the web process in order with the call below, and the "off" in
            # `finished` goes out before WebKit asks the host about any navigation the call
            # started: the next document is parsed with JavaScript off again.
            self.settings.set_enable_javascript(True)
        self.view.evaluate_javascript(DRIVER_JS + "\n" + source, -1, WORLD, "webview-bridge-test-driver.js",
                                      None, finished, None)

    def until_found(self, source: str, on_found, fail, timeout: float, selector: str) -> None:
        """Runs `source` (which answers {found: bool, ...}) until it finds its element."""
        deadline = time.monotonic() + timeout

        def attempt():
            if self.view.is_loading():
                return retry("the page is still loading")
            self.evaluate(source, answered, errored)

        def errored(error):  # a bad selector, several matches: say so at once
            if self.view.is_loading():
                retry(error)
            else:
                fail(f"{selector}: {error}")

        def answered(value):
            if value and value.get("found"):
                on_found(value)
            else:
                retry("disabled" if value and value.get("disabled") else "not found")

        def retry(why):
            if time.monotonic() > deadline:
                fail(f"{selector}: {why} after {timeout} s on {self.view.get_uri()} ({self.view.get_title()!r})")
            else:
                GLib.timeout_add(POLL_MS, lambda: attempt() and False)

        attempt()

    def close(self) -> None:
        for waiter in list(self.waiters):
            self.waiters.remove(waiter)
        self.view.stop_loading()
        self.window.destroy()


class Host:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.counter = 0
        self.spare: Page | None = None
        self.buffer = b""
        context = WebKit2.WebContext.get_default()
        context.set_preferred_languages(["en-US", "en"])  # Accept-Language: the pages in English
        context.set_cache_model(WebKit2.CacheModel.DOCUMENT_VIEWER)
        GLib.io_add_watch(0, GLib.PRIORITY_DEFAULT, GLib.IOCondition.IN | GLib.IOCondition.HUP, self._on_stdin)
        GLib.idle_add(self._prepare_spare)

    def _prepare_spare(self) -> bool:
        """A WebView whose web process is already up (it shows about:blank), made while the
        tests set up their server: the next page then starts without waiting ~0.2 s for one."""
        if self.spare is None:
            self.spare = Page(self)
            self.spare.view.load_uri("about:blank")
        return False

    def _take_page(self, then) -> None:
        """Hands the spare to `then` once its blank page has finished loading (so that load's
        end is never taken for the test's own), or a new WebView if there is no spare."""
        spare, self.spare = self.spare, None
        if spare is None:
            then(Page(self))
            return

        def ready(crashed: bool = False, **_):
            if crashed:
                spare.waiters.remove(ready)
                spare.close()
                then(Page(self))
            elif spare.loads_finished and not spare.view.is_loading():
                spare.waiters.remove(ready)
                then(spare)
            return False

        spare.waiters.append(ready)
        ready()

    def _on_stdin(self, fd, condition) -> bool:
        chunk = os.read(fd, 65536)
        if not chunk:
            Gtk.main_quit()
            return False
        self.buffer += chunk
        while b"\n" in self.buffer:
            line, self.buffer = self.buffer.split(b"\n", 1)
            if line.strip():
                self._dispatch(json.loads(line))
        return True

    def _dispatch(self, message: dict) -> None:
        ident, cmd = message.pop("id"), message.pop("cmd")
        trace("cmd", ident, cmd, message.get("selector", message.get("url", "")))
        answered = []

        def reply(result=None):
            if not answered:
                answered.append(True)
                out({"id": ident, "ok": True, "result": result})

        def fail(error):
            if not answered:
                answered.append(True)
                out({"id": ident, "ok": False, "error": str(error)})

        try:
            handler = getattr(self, "cmd_" + cmd)
            page = self.pages[message.pop("page")] if "page" in message else None
            handler(reply, fail, page, **message) if page else handler(reply, fail, **message)
        except Exception as error:  # a bad command must not take the host down
            fail(f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}")

    # --- commands ------------------------------------------------------------------------------

    def cmd_hello(self, reply, fail):
        reply({"webkit": f"{WebKit2.get_major_version()}.{WebKit2.get_minor_version()}.{WebKit2.get_micro_version()}",
               "gtk": f"{Gtk.get_major_version()}.{Gtk.get_minor_version()}.{Gtk.get_micro_version()}",
               "python": sys.version.split()[0]})

    def cmd_open_page(self, reply, fail, **options):
        self.counter += 1
        page_id = f"p{self.counter}"

        def hand_out(page: Page) -> None:
            page.configure(page_id, **options)
            self.pages[page_id] = page
            reply(page_id)

        self._take_page(hand_out)

    def cmd_close_page(self, reply, fail, page):
        self.pages.pop(page.id).close()
        reply()
        GLib.idle_add(self._prepare_spare)

    def cmd_goto(self, reply, fail, page, url, headers=None, timeout=15.0):
        request = WebKit2.URIRequest.new(url)
        if headers:
            # Sent on this request and its same-origin redirects (Authorization is dropped when a
            # redirect leaves the origin); later navigations do not repeat them.
            soup_headers = request.get_http_headers()
            for name, value in headers.items():
                soup_headers.replace(name, value)
        since = (page.loads_finished, len(page.redirects))
        page.view.load_request(request)
        page.after_navigation(reply, fail, timeout, since)

    def _act(self, reply, fail, page, call: str, selector: str, timeout: float, navigation_timeout: float) -> None:
        """Runs a driver action on one element once it is there; when the action starts a
        navigation, answers after that navigation settles, else at once."""
        def acted(value):
            if value.get("navigates"):
                page.after_navigation(reply, fail, navigation_timeout, since)
            else:
                reply(page.state())
        since = (page.loads_finished, len(page.redirects))
        page.until_found(call, acted, fail, timeout, selector)

    def cmd_click(self, reply, fail, page, selector, timeout=10.0, navigation_timeout=15.0):
        self._act(reply, fail, page, f"__wvbDriver.click({json.dumps(selector)})", selector, timeout, navigation_timeout)

    def cmd_submit(self, reply, fail, page, selector, timeout=10.0, navigation_timeout=15.0):
        self._act(reply, fail, page, f"__wvbDriver.submit({json.dumps(selector)})", selector, timeout, navigation_timeout)

    def cmd_fill(self, reply, fail, page, selector, value, timeout=10.0):
        call = f"__wvbDriver.fill({json.dumps(selector)}, {json.dumps(value)})"
        self._act(reply, fail, page, call, selector, timeout, 0)

    def cmd_count(self, reply, fail, page, selector):
        if page.view.is_loading():
            reply(0)  # nothing is there until the page has loaded
            return
        page.evaluate(f"__wvbDriver.find({json.dumps(selector)}).length", reply,
                      lambda error: reply(0) if page.view.is_loading() else fail(error))

    def cmd_eval(self, reply, fail, page, script):
        page.evaluate(script, reply, fail)

    def cmd_read(self, reply, fail, page, what="text"):
        """The page's text or HTML; its HTML comes from the main resource when no script may run."""
        if what == "text":
            page.evaluate("document.body ? document.body.innerText : ''", reply, fail)
            return

        def from_resource(error):
            resource = page.view.get_main_resource()
            if resource is None:
                fail(error)
                return
            resource.get_data(None, lambda res, result, _: reply(bytes(res.get_data_finish(result)).decode("utf-8", "replace")), None)

        page.evaluate("document.documentElement.outerHTML", reply, from_resource)

    def cmd_state(self, reply, fail, page):
        reply({**page.state(), "navigations": page.navigations, "messages": page.messages})

    def cmd_snapshot(self, reply, fail, page, path, full_page=True):
        region = WebKit2.SnapshotRegion.FULL_DOCUMENT if full_page else WebKit2.SnapshotRegion.VISIBLE

        def finished(view, result, _data):
            try:
                surface = view.get_snapshot_finish(result)
                surface.write_to_png(path)
                reply({"width": surface.get_width(), "height": surface.get_height()})
            except Exception as error:
                fail(f"snapshot: {error}")

        page.view.get_snapshot(region, WebKit2.SnapshotOptions.NONE, None, finished, None)

    def cmd_quit(self, reply, fail):
        reply()
        for page in [*self.pages.values(), *([self.spare] if self.spare else [])]:
            page.close()
        GLib.idle_add(Gtk.main_quit)


def main() -> None:
    Gtk.init(None)
    Host()
    out({"event": "ready", "pid": os.getpid()})
    Gtk.main()


if __name__ == "__main__":
    main()
