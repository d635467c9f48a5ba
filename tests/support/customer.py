"""A customer going through the WebView pages and the sandbox bank's own pages over plain HTTP
(no browser): for tests of the flow's rules and for the flow benchmark. Browser tests drive the
same pages in Chromium.

Forms are read from the HTML as a browser would (hidden fields, ticked boxes, the button pressed),
so the pages stay free to name their fields as they like."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # what submitting sends as it stands
    inputs: list[dict[str, str]] = field(default_factory=list)  # every named input, with its attributes
    buttons: list[tuple[str, str, str]] = field(default_factory=list)  # (text, name, value)

    def input_named(self, **wanted: str) -> str | None:
        """The name of the first input whose attributes include these (e.g. type="password")."""
        for attrs in self.inputs:
            if all(attrs.get(k) == v for k, v in wanted.items()):
                return attrs.get("name")
        return None


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._button: list[str] | None = None
        self._button_attrs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs_list) -> None:
        attrs = {k: (v or "") for k, v in attrs_list}
        if tag == "form":
            self.forms.append(Form(attrs.get("action", ""), attrs.get("method", "get").lower()))
        elif not self.forms:
            return
        elif tag == "input" and attrs.get("name"):
            form = self.forms[-1]
            form.inputs.append(attrs)
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    form.fields.append((attrs["name"], attrs.get("value", "on")))
            elif kind not in ("submit", "button"):
                form.fields.append((attrs["name"], attrs.get("value", "")))
        elif tag == "button":
            self._button, self._button_attrs = [], attrs

    def handle_data(self, data: str) -> None:
        if self._button is not None:
            self._button.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "button" and self._button is not None and self.forms:
            text = " ".join("".join(self._button).split())
            self.forms[-1].buttons.append((text, self._button_attrs.get("name", ""), self._button_attrs.get("value", "")))
            self._button = None


def forms(page: httpx2.Response) -> list[Form]:
    parser = _Forms()
    parser.feed(page.text)
    return parser.forms


class Customer:
    def __init__(self, base_url: str, **client_options) -> None:
        self.base_url = base_url
        self.http = httpx2.Client(base_url=base_url, follow_redirects=False, timeout=30, **client_options)

    def close(self) -> None:
        self.http.close()

    def get(self, url: str) -> httpx2.Response:
        return self.http.get(url)

    def follow(self, answer: httpx2.Response) -> httpx2.Response:
        assert answer.status_code in (302, 303), (answer.status_code, answer.text[:500])
        return self.http.get(urljoin(str(answer.request.url), answer.headers["location"]))

    @staticmethod
    def csrf(page: httpx2.Response) -> str:
        for form in forms(page):
            for name, value in form.fields:
                if name == "csrf":
                    return value
        raise AssertionError(f"no CSRF token on the page ({page.status_code})")

    @staticmethod
    def accounts(page: httpx2.Response) -> list[str]:
        return [value for form in forms(page) for name, value in form.fields if name == "account_id"]

    def submit(self, page: httpx2.Response, button: str, *, fill: dict[str, str] | None = None,
               untick: set[str] = frozenset(), tick: dict[str, list[str]] | None = None) -> httpx2.Response:
        """Press the button with this text on the page's form, as a browser would."""
        for form in forms(page):
            for text, name, value in form.buttons:
                if text == button:
                    data = [(k, v) for k, v in form.fields if not (k in (fill or {}) or v in untick)]
                    data += list((fill or {}).items())
                    for key, values in (tick or {}).items():
                        data = [(k, v) for k, v in data if k != key] + [(key, v) for v in values]
                    if name:
                        data.append((name, value))
                    target = urljoin(str(page.request.url), form.action or str(page.request.url))
                    grouped: dict[str, list[str]] = {}
                    for key, item in data:
                        grouped.setdefault(key, []).append(item)
                    return self.http.post(target, data=grouped)
        raise AssertionError(f"no button {button!r} on the page ({page.status_code}): {page.text[:300]}")

    # --- our pages ------------------------------------------------------------------------

    def choose_bank(self, request_id: str, bank_id: str, page: httpx2.Response) -> httpx2.Response:
        return self.http.post(f"/app/request-token/{request_id}/bank", data={"csrf": self.csrf(page), "bank_id": bank_id})

    def consent_page(self, request_id: str) -> httpx2.Response:
        return self.http.get(f"/app/request-token/{request_id}/consent")

    def decide(self, page: httpx2.Response, decision: str, accounts: list[str] | None = None) -> httpx2.Response:
        """Allow or Deny on our consent screen (with accounts to tick on the trusted path)."""
        tick = {"account_id": accounts} if accounts is not None else None
        return self.submit(page, "Allow" if decision == "allow" else "Deny", tick=tick)

    def to_consent(self, url: str, bank_id: str = "sandbox") -> httpx2.Response:
        """From the URL the TPP got to our consent screen."""
        request_id = url.rstrip("/").rsplit("/", 1)[1]
        entry = self.http.get(url)
        if entry.status_code not in (200, 302):
            return entry
        chosen = entry if entry.status_code == 302 else self.choose_bank(request_id, bank_id, entry)
        assert chosen.status_code == 302, (chosen.status_code, chosen.text[:300])
        return self.follow(chosen)

    # --- the sandbox bank's own pages ------------------------------------------------------

    def bank_login(self, to_bank: httpx2.Response, username: str, password: str = "sandbox",
                   one_time_code: str | None = None) -> httpx2.Response:
        """From the 302 to the bank through its login (and one-time code) pages."""
        page = self.follow(to_bank)
        form = forms(page)[0]
        user_field, password_field = form.input_named(autocomplete="username"), form.input_named(type="password")
        answer = self._see_other(self.submit(page, "Log in", fill={user_field: username, password_field: password}))
        if answer.status_code == 200 and any(f.input_named(autocomplete="one-time-code") for f in forms(answer)):
            code_field = next(f.input_named(autocomplete="one-time-code") for f in forms(answer)
                              if f.input_named(autocomplete="one-time-code"))
            answer = self._see_other(self.submit(answer, "Log in", fill={code_field: one_time_code or ""}))
        return answer

    def _see_other(self, answer: httpx2.Response) -> httpx2.Response:
        """A bank's post/redirect/get to its next page of its own (not the 302 that leaves it)."""
        while answer.status_code == 303:
            answer = self.follow(answer)
        return answer

    def at_bank(self, to_bank: httpx2.Response, username: str = "alice", *, decision: str = "Confirm",
                one_time_code: str | None = None, untick: set[str] = frozenset()) -> httpx2.Response:
        """Log in at the sandbox bank and answer its own consent page; the bank's 302 back."""
        consent = self.bank_login(to_bank, username, one_time_code=one_time_code)
        if consent.status_code != 200:
            return consent
        if consent.status_code == 200 and untick:
            return self.submit(consent, decision, untick=untick)
        return self.submit(consent, decision)

    def back_from_bank(self, bank_answer: httpx2.Response) -> httpx2.Response:
        return self.follow(bank_answer)

    def run(self, url: str, *, bank_id: str = "sandbox", username: str = "alice", decision: str = "allow",
            bank_decision: str = "Confirm", one_time_code: str | None = None) -> httpx2.Response:
        """The whole flow, from the URL the TPP got to the 302 back to the TPP."""
        consent = self.to_consent(url, bank_id)
        answer = self.decide(consent, decision)
        if decision != "allow":
            return answer
        bank_answer = self.at_bank(answer, username, decision=bank_decision, one_time_code=one_time_code)
        back = self.back_from_bank(bank_answer)
        assert back.status_code == 302, (back.status_code, back.text[:500])
        return back


def absolute(base: str, location: str) -> str:
    return urljoin(base, location)


def unescape(text: str) -> str:
    return html.unescape(text)
