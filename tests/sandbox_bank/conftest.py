"""The sandbox ASPSP served alone on loopback (as the main server mounts it, at /sandbox-bank), in
validating mode: every request the tests send and every answer it gives is held to the official
Berlin Group file, and a test fails if the bank's own answer does not conform."""

from __future__ import annotations

import re
import ssl
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

import httpx2
import pytest

from webview_bridge.banks.directory import load_directory
from webview_bridge.clock import ManualClock
from webview_bridge.sandbox_bank import SandboxConfig
from webview_bridge.sandbox_bank.api.http import Conformance
from webview_bridge.sandbox_bank.standalone import standalone_app
from webview_bridge.store.database import Database
from tests.support.live import LiveServer, start_live_server

get_bank = load_directory().get  # the shipped sandbox banks
TPP_NAME = "Example Operator"
TRUSTED_KEY = "trusted-key-for-tests-0123456789"
REDIRECT = "https://tpp.example/callback?flow=f1&x=%7Ea"
NOK = "https://tpp.example/denied"
PSU_IP = "192.0.2.10"
BANK_OFFERED = {"accounts": [], "balances": [], "transactions": [], "additionalInformation": {"trustedBeneficiaries": []}}


@cache
def plain_tls() -> ssl.SSLContext:
    """One TLS context for every test client: building one per client (loading the CA bundle) costs 0.1 s."""
    return ssl.create_default_context()


class Xs2aClient:
    """A TPP's calls to one sandbox bank, with conforming headers (a fresh X-Request-ID each)."""

    def __init__(self, bank_url: str, clock: ManualClock) -> None:
        self.bank_url = bank_url
        self.clock = clock
        self.http = httpx2.Client(timeout=30, verify=plain_tls())

    def call(self, method: str, path_or_url: str, *, consent_id: str | None = None, psu_ip: str | None = None,
             params: dict[str, Any] | None = None, json: Any = None, headers: dict[str, str] | None = None) -> httpx2.Response:
        request_id = str(uuid.uuid4())
        sent = {"X-Request-ID": request_id, **(headers or {})}
        if consent_id is not None:
            sent["Consent-ID"] = consent_id
        if psu_ip is not None:
            sent["PSU-IP-Address"] = psu_ip
        url = path_or_url if path_or_url.startswith("http") else self.bank_url + path_or_url
        response = self.http.request(method, url, headers=sent, params=params, json=json)
        assert response.headers["X-Request-ID"] == request_id, "the bank must echo X-Request-ID"
        return response

    def get(self, path_or_url: str, consent_id: str, *, psu_ip: str | None = None, **params: Any) -> httpx2.Response:
        return self.call("GET", path_or_url, consent_id=consent_id, psu_ip=psu_ip, params=params or None)

    def consent_body(self, access: dict[str, Any] | None = None, valid_until: date | None = None,
                     frequency: int = 4, recurring: bool = True) -> dict[str, Any]:
        return {"access": BANK_OFFERED if access is None else access, "recurringIndicator": recurring,
                "validUntil": (valid_until or self.clock.now().date() + timedelta(days=90)).isoformat(),
                "frequencyPerDay": frequency, "combinedServiceIndicator": False}

    def create_consent(self, *, body: dict[str, Any] | None = None, redirect: str | None = REDIRECT,
                       nok: str | None = NOK, brand: str | None = None, **fields: Any) -> httpx2.Response:
        headers = {"TPP-Redirect-Preferred": "true", "PSU-User-Agent": "Mozilla/5.0 (Linux; Android 14) Test"}
        if redirect:
            headers["TPP-Redirect-URI"] = redirect
        if nok:
            headers["TPP-Nok-Redirect-URI"] = nok
        if brand:
            headers["TPP-Brand-Logging-Information"] = brand
        return self.call("POST", "/v1/consents", psu_ip=PSU_IP, headers=headers, json=body or self.consent_body(**fields))

    def status(self, consent_id: str) -> str:
        response = self.call("GET", f"/v1/consents/{consent_id}/status")
        assert response.status_code == 200, response.text
        return response.json()["consentStatus"]

    def close(self) -> None:
        self.http.close()


@dataclass
class Page:
    response: httpx2.Response

    @property
    def html(self) -> str:
        return self.response.text

    def form(self, index: int = 0) -> tuple[str, str]:
        """(action, csrf) of the page's form."""
        actions = re.findall(r'<form method="post"[^>]* action="([^"]+)"', self.html)
        csrf = re.findall(r'name="csrf" value="([^"]+)"', self.html)
        return actions[index], csrf[index]

    def accounts(self) -> dict[str, str]:
        """Each checkbox's accessible name (the account's name) → its value (resourceId)."""
        found = re.findall(r'name="account" value="([^"]+)"( checked)? aria-labelledby="(\w+)"', self.html)
        return {re.search(rf'<span class="name" id="{label}">([^<]+)</span>', self.html).group(1): value
                for value, _, label in found}

    @property
    def problem(self) -> str | None:
        match = re.search(r'<p class="problem" id="login-problem" role="alert">([^<]+)</p>', self.html)
        return match.group(1) if match else None

    @property
    def heading(self) -> str:
        return re.search(r"<h1>(.*?)</h1>", self.html, re.S).group(1)


class Customer:
    """A browser without JavaScript: cookies kept, redirects shown rather than followed."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.http = httpx2.Client(timeout=30, follow_redirects=False, verify=plain_tls())

    def open(self, href: str) -> Page:
        return Page(self.http.get(href))

    def post(self, page: Page, fields: dict[str, Any], *, csrf: str | None = None) -> httpx2.Response:
        action, token = page.form()
        return self.http.post(self.origin + action, data={"csrf": token if csrf is None else csrf, **fields})

    def after(self, response: httpx2.Response) -> Page:
        """Follows a 303 to the next screen."""
        assert response.status_code == 303, response.text
        return self.open(self.origin + response.headers["location"])

    def log_in(self, page: Page, username: str = "alice", password: str = "sandbox") -> httpx2.Response:
        return self.post(page, {"username": username, "password": password, "action": "login"})

    def authorise(self, href: str, username: str = "alice", *, code: str | None = None,
                  untick: tuple[str, ...] = (), action: str = "confirm") -> httpx2.Response:
        """Login (and one-time code) then the consent page; the bank's final answer (a 302)."""
        page = self.after(self.log_in(self.open(href), username))
        if code is not None:
            page = self.after(self.post(page, {"one_time_code": code, "action": "login"}))
        ticked = [v for name, v in page.accounts().items() if name not in untick]
        return self.post(page, {"action": action, "account": ticked})

    def close(self) -> None:
        self.http.close()


@dataclass
class Sandbox:
    config: SandboxConfig
    live: LiveServer
    conformance: Conformance
    clock: ManualClock

    @property
    def origin(self) -> str:
        return self.live.url

    @property
    def url(self) -> str:
        return self.live.url + "/sandbox-bank"

    def tpp(self, bank_id: str = "sandbox") -> Xs2aClient:
        return Xs2aClient(f"{self.url}/{bank_id}", self.clock)

    def customer(self) -> Customer:
        return Customer(self.origin)


def start_sandbox(database_url: str, clock: ManualClock, **overrides: Any) -> Sandbox:
    from tests.support.postgres import free_port

    port = free_port()
    fields: dict[str, Any] = {
        "db": Database(database_url), "clock": clock, "public_url": f"http://127.0.0.1:{port}/sandbox-bank",
        "bank": get_bank, "secret": b"sandbox-bank-test-secret-0123456789", "tpp_name": TPP_NAME,
        "trusted_key": TRUSTED_KEY, "validate": True, **overrides,
    }
    config = SandboxConfig(**fields)
    app = standalone_app(config)
    conformance = app.routes[0].app.state.sandbox_conformance
    return Sandbox(config, start_live_server(app, port), conformance, clock)


def stop_sandbox(sandbox: Sandbox) -> None:
    sandbox.live.stop()
    sandbox.config.db.dispose()
    assert not sandbox.conformance.failures, "the sandbox answered outside the Berlin Group file:\n" + "\n".join(
        sandbox.conformance.failures)


@pytest.fixture
def sandbox_factory(database_url: str, clock: ManualClock) -> Iterator[Callable[..., Sandbox]]:
    started: list[Sandbox] = []

    def start(**overrides: Any) -> Sandbox:
        started.append(start_sandbox(database_url, clock, **overrides))
        return started[-1]

    yield start
    for sandbox in started:
        stop_sandbox(sandbox)


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    return sandbox_factory()


@pytest.fixture
def tpp(sandbox: Sandbox) -> Iterator[Xs2aClient]:
    client = sandbox.tpp()
    yield client
    client.close()


@pytest.fixture
def customer(sandbox: Sandbox) -> Iterator[Customer]:
    browser = sandbox.customer()
    yield browser
    browser.close()


def granted_consent(tpp: Xs2aClient, customer: Customer, username: str = "alice", *, code: str | None = None,
                    untick: tuple[str, ...] = (), **fields: Any) -> str:
    """A consent the customer authorised at the bank: its consentId."""
    created = tpp.create_consent(**fields)
    assert created.status_code == 201, created.text
    back = customer.authorise(created.json()["_links"]["scaRedirect"]["href"], username, code=code, untick=untick)
    assert back.status_code == 302 and back.headers["location"] == REDIRECT, back.text
    return created.json()["consentId"]
