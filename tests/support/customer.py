"""A customer going through the WebView pages over plain HTTP (no browser): for tests of the
flow's rules and for the flow benchmark. Browser tests drive the same pages in Chromium."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx2

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
_ACCOUNT = re.compile(r'name="account_id" value="([^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="(state|return_url|pending)" value="([^"]*)"')


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


class Customer:
    def __init__(self, base_url: str, **client_options) -> None:
        self.base_url = base_url
        self.http = httpx2.Client(base_url=base_url, follow_redirects=False, timeout=30, **client_options)

    def close(self) -> None:
        self.http.close()

    def get(self, url: str) -> httpx2.Response:
        return self.http.get(url)

    @staticmethod
    def csrf(page: httpx2.Response) -> str:
        found = _CSRF.search(page.text)
        assert found, f"no CSRF token on the page ({page.status_code})"
        return html.unescape(found.group(1))

    @staticmethod
    def accounts(page: httpx2.Response) -> list[str]:
        return [html.unescape(v) for v in _ACCOUNT.findall(page.text)]

    def choose_bank(self, request_id: str, bank_id: str, page: httpx2.Response) -> httpx2.Response:
        return self.http.post(f"/app/request-token/{request_id}/bank", data={"csrf": self.csrf(page), "bank_id": bank_id})

    def bank_login(self, bank_redirect: httpx2.Response, username: str, password: str = "sandbox",
                   one_time_code: str | None = None) -> httpx2.Response:
        """From the 302 to the bank, through the sandbox bank's form(s), to the bank's 302 back."""
        login_url = bank_redirect.headers["location"]
        form_page = self.http.get(login_url)
        fields = {k: html.unescape(v) for k, v in _HIDDEN.findall(form_page.text)}
        answer = self.http.post(login_url.split("?")[0], data={**fields, "username": username, "password": password})
        if answer.status_code == 200 and 'name="one_time_code"' in answer.text:
            fields = {k: html.unescape(v) for k, v in _HIDDEN.findall(answer.text)}
            answer = self.http.post(login_url.split("?")[0], data={**fields, "one_time_code": one_time_code or ""})
        return answer

    def back_from_bank(self, bank_answer: httpx2.Response) -> httpx2.Response:
        assert bank_answer.status_code == 302, bank_answer.text[:500]
        return self.http.get(bank_answer.headers["location"])

    def consent_page(self, request_id: str) -> httpx2.Response:
        return self.http.get(f"/app/request-token/{request_id}/consent")

    def decide(self, request_id: str, page: httpx2.Response, decision: str, accounts: list[str] | None = None) -> httpx2.Response:
        chosen = self.accounts(page) if accounts is None else accounts
        data = {"csrf": self.csrf(page), "decision": decision, "account_id": chosen}
        return self.http.post(f"/app/request-token/{request_id}/consent", data=data)

    def run(self, url: str, *, bank_id: str = "sandbox", username: str = "alice", decision: str = "allow",
            one_time_code: str | None = None) -> httpx2.Response:
        """The whole flow, from the URL the TPP got to the 302 back to the TPP."""
        request_id = url.rstrip("/").rsplit("/", 1)[1]
        entry = self.http.get(url)
        to_bank = entry if entry.status_code == 302 else self.choose_bank(request_id, bank_id, entry)
        back = self.back_from_bank(self.bank_login(to_bank, username, one_time_code=one_time_code))
        assert back.status_code == 302, back.text[:500]
        page = self.http.get(back.headers["location"])
        return self.decide(request_id, page, decision)


def absolute(base: str, location: str) -> str:
    return urljoin(base, location)
