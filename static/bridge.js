/* webview-bridge: tells the native host what happens (PROTOCOL §6) and filters the bank list.
   Every page works without this file; with it, the host hears events and search needs no round trip. */
(function () {
  "use strict";
  var w = window, d = document, body = d.body;
  var requestId = body.getAttribute("data-request-id") || null;

  function channel() {
    var h = w.webkit && w.webkit.messageHandlers && w.webkit.messageHandlers.webviewBridge;
    if (h) return function (s) { h.postMessage(s); };
    if (w.WebViewBridgeAndroid && w.WebViewBridgeAndroid.postMessage) return function (s) { w.WebViewBridgeAndroid.postMessage(s); };
    if (w.ReactNativeWebView && w.ReactNativeWebView.postMessage) return function (s) { w.ReactNativeWebView.postMessage(s); };
    return null;
  }

  function post(event, data) {
    var message = { type: "webview-bridge", event: event, request_id: requestId, data: data || {} };
    var send = channel();
    if (send) { send(JSON.stringify(message)); return true; }
    var origin = body.getAttribute("data-embed-origin");
    if (origin && w.parent && w.parent !== w) { w.parent.postMessage(message, origin); return true; }
    return false;
  }
  w.webviewBridge = { post: post };

  var onLoad = body.getAttribute("data-wvb-event");
  if (onLoad && onLoad !== "OPEN_EXTERNAL") {
    var data = {};
    try { data = JSON.parse(body.getAttribute("data-wvb-data") || "{}"); } catch (e) { data = {}; }
    // The waiting page reloads itself: tell the host it is still waiting once, not on every reload.
    var once = data.code === "still_waiting_for_bank" ? "wvb-told-" + requestId : null;
    var told = false;
    try { told = once !== null && w.sessionStorage.getItem(once) === "1"; } catch (e) { told = false; }
    if (!told) {
      post(onLoad, data);
      try { if (once) w.sessionStorage.setItem(once, "1"); } catch (e) { /* storage off: tell again */ }
    }
  }

  d.addEventListener("click", function (e) {
    var el = e.target.closest ? e.target.closest("[data-wvb-click], button[name=bank_id]") : null;
    if (!el || el.disabled) return;
    if (el.name === "bank_id") { post("SELECT_BANK", { bank_id: el.value }); return; }
    var event = el.getAttribute("data-wvb-click");
    if (event === "OPEN_EXTERNAL") {
      // In an app, the host opens the bank's app or browser; in a plain browser the link just works.
      if (post(event, { url: el.getAttribute("data-wvb-url") })) e.preventDefault();
      return;
    }
    post(event, {});
  });

  // Bank search: case- and accent-insensitive, as the server's, across every group of banks.
  var input = d.getElementById("bank-search");
  var items = d.querySelectorAll(".banks li");
  if (!input || !items.length) return;
  var select = d.getElementById("bank-country"), chip = d.getElementById("country-chip"), empty = d.getElementById("no-banks");
  var sections = d.querySelectorAll("[data-group-section]");
  var hide = d.querySelectorAll("[data-js-hide]");
  for (var i = 0; i < hide.length; i++) hide[i].hidden = true;
  var countryStyle = d.getElementById("country-style");  // the server's country rule: from here the filter below decides
  if (countryStyle) countryStyle.parentNode.removeChild(countryStyle);
  function fold(s) { return s.toLowerCase().normalize("NFKD").replace(/[\u0300-\u036f]/g, "").replace(/ł/g, "l").replace(/ø/g, "o"); }
  function filter() {
    var q = fold(input.value.trim()), c = select ? select.value : "", shown = 0;
    for (var i = 0; i < items.length; i++) {
      var li = items[i], b = li.firstElementChild;
      var match = (!q || fold(b.querySelector(".n").firstChild.textContent).indexOf(q) >= 0 || fold(li.getAttribute("data-bic")).indexOf(q) >= 0)
        && (!c || (" " + li.getAttribute("data-c") + " ").indexOf(" " + c + " ") >= 0);
      li.hidden = !match;
      if (match) shown++;
    }
    for (var j = 0; j < sections.length; j++) sections[j].hidden = !sections[j].querySelector("li:not([hidden])");
    if (empty) empty.hidden = shown > 0;
    if (chip && select) chip.textContent = select.options[select.selectedIndex].text;
  }
  input.addEventListener("input", filter);
  if (select) select.addEventListener("change", filter);
  input.form.addEventListener("submit", function (e) { e.preventDefault(); filter(); });
  filter();
})();
