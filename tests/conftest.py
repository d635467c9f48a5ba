"""The test rig: every database test runs on SQLite and on a real PostgreSQL; servers are
real uvicorn on loopback; browsers are Debian's Chromium on a phone profile; time is a
ManualClock the test moves."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import create_engine, text

from webview_bridge.app import create_app
from webview_bridge.clock import ManualClock
from webview_bridge.domain.apps import ROLE_CHOICES
from webview_bridge.settings import Settings, normalise_database_url
from webview_bridge.store import apps as app_store
from webview_bridge.store.apps import NewAppCredentials
from webview_bridge.store.database import Database
from tests.support.live import LiveServer, start_live_server
from tests.support.postgres import ThrowawayPostgres, free_port

DATABASES = ("sqlite", "postgresql")
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
CHROMIUM = next((p for p in ("/usr/lib/chromium/chromium", "/usr/bin/chromium") if os.path.exists(p)), None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", choices=(*DATABASES, "both"), default="both", help="which databases to test on")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("--db")
        kinds = DATABASES if chosen == "both" else (chosen,)
        only = metafunc.definition.get_closest_marker("databases")
        if only is not None:  # browser tests drive pages, not storage: one database is enough
            kinds = tuple(k for k in kinds if k in only.args) or only.args[:1]
        metafunc.parametrize("database_kind", kinds, scope="session")


# --- databases -----------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    if os.environ.get("WVB_TEST_POSTGRES_URL"):
        yield os.environ["WVB_TEST_POSTGRES_URL"]
        return
    cluster = ThrowawayPostgres()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


def _admin(server_url: str):
    return create_engine(normalise_database_url(server_url), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def postgres_template(postgres_server_url: str) -> str:
    """A migrated database that every PostgreSQL test clones (CREATE DATABASE … TEMPLATE is fast)."""
    admin = _admin(postgres_server_url)
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS wvb_template WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE wvb_template"))
    admin.dispose()
    url = postgres_server_url.rsplit("/", 1)[0] + "/wvb_template"
    db = Database(normalise_database_url(url))
    db.upgrade()
    db.dispose()
    return "wvb_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.dispose()
    return path


@pytest.fixture
def database_url(database_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for this test."""
    if database_kind == "sqlite":
        path = tmp_path / "wvb.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server_url = request.getfixturevalue("postgres_server_url")
    template = request.getfixturevalue("postgres_template")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = _admin(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield normalise_database_url(server_url.rsplit("/", 1)[0] + f"/{name}")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


# --- the server ----------------------------------------------------------------------------

@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def server_port() -> int:
    return free_port()


@pytest.fixture
def settings(database_url: str, server_port: int) -> Settings:
    # The connector's calls are held to the Berlin Group file in `app` below; the sandbox bank's
    # own tests hold its side (tests/sandbox_bank), so it need not check every call twice here.
    # The outbox worker is driven by hand (app.state.worker.run_due()), so tests decide when it runs.
    return Settings(database_url=database_url, port=server_port, public_url=f"http://127.0.0.1:{server_port}",
                    worker=False)


@pytest.fixture
def bank_calls() -> list[str]:
    """Every way the server's calls to a bank broke the Berlin Group file (none, or the test fails)."""
    return []


@pytest.fixture
def app(settings: Settings, clock: ManualClock, bank_calls: list[str]):
    from webview_bridge.banks.xs2a.openapi import NonConformance, check_request, check_response

    built = create_app(settings, clock)

    def hold_to_the_file(exchange) -> None:
        try:
            check_request(exchange)
            check_response(exchange)
        except NonConformance as problem:
            bank_calls.append(str(problem))

    built.state.runtime.banks.observe = hold_to_the_file
    yield built
    assert bank_calls == [], "calls to the bank broke the Berlin Group file"


@pytest.fixture
def server(app, server_port: int) -> Iterator[LiveServer]:
    live = start_live_server(app, server_port)
    yield live
    live.stop()


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def register_app(app) -> Callable[..., NewAppCredentials]:
    """Registers an app the way `webview-bridge apps create` does."""
    runtime = app.state.runtime

    def register(role: str = "tpp", **options: Any) -> NewAppCredentials:
        options.setdefault("name", f"Test {role} app")
        options.setdefault("redirect_urls", ("https://tpp.example/callback",))
        return app_store.create(runtime.db, runtime.keyring, runtime.clock, roles=ROLE_CHOICES[role], **options)

    return register


# --- the browser ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if CHROMIUM is None:
        raise RuntimeError("Debian's Chromium is not installed: run `make test`, which installs it")
    args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": args}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any], playwright: Any) -> dict[str, Any]:
    phone = {k: v for k, v in playwright.devices["Pixel 7"].items() if k != "default_browser_type"}
    return {**browser_context_args, **phone}


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """Where a test keeps its screenshots (kept after the run)."""
    folder = ARTIFACTS / request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# --- a TPP with a live backend token -------------------------------------------------------

class Tpp:
    """A registered TPP app holding a backend access token, talking to the live server."""

    def __init__(self, server: LiveServer, creds: NewAppCredentials) -> None:
        self.server = server
        self.creds = creds
        self.app_id = creds.app_id
        self.http = httpx2.Client(base_url=server.url, timeout=30)
        self.renew()

    def renew(self) -> None:
        """A fresh backend access token (after the test moved the clock past the old one's life)."""
        token = httpx2.post(self.server.url + "/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(self.creds.app_id, self.creds.app_secret)).json()
        self.access_token = token["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.access_token}"

    def store_request(self, **fields: Any) -> dict[str, Any]:
        body = {
            "resources": ["ACCOUNTS", "BALANCES", "TRANSACTIONS"],
            "redirect_url": "https://tpp.example/callback",
            "ref_id": "order-1",
            "csrf_token": "csrf-token-0123456789",
            **fields,
        }
        response = self.http.post("/token-requests", json=body)
        assert response.status_code == 201, response.text
        return response.json()["token_request"]

    def approve(self, request_id: str, user: str = "alice", bank_id: str = "sandbox", accounts: int | None = None):
        """A customer goes through the whole flow and, at the bank, keeps the first `accounts` ticked;
        the token as its grantee reads it (None if the request ended otherwise)."""
        from types import SimpleNamespace

        from tests.support.customer import Customer, forms, query

        person = Customer(self.server.url)
        try:
            consent = person.to_consent(f"{self.server.url}/app/request-token/{request_id}", bank_id)
            if consent.status_code != 200:
                return None
            login = person.bank_login(person.decide(consent, "allow"), user)
            boxes = [v for f in forms(login) for k, v in f.fields if f.input_named(type="checkbox") == k]
            untick = set(boxes[accounts:]) if accounts is not None else set()
            back = person.back_from_bank(person.submit(login, "Confirm", untick=untick))
        finally:
            person.close()
        token_id = query(back.headers.get("location", "")).get("token-id")
        if token_id is None:
            return None
        token = self.http.get(f"/tokens/{token_id}").json()["token"]
        return SimpleNamespace(**{**token, "account_ids": tuple(token["account_ids"])})

    def on_behalf_of(self, token_id: str) -> dict[str, str]:
        return {"On-Behalf-Of": token_id}


@pytest.fixture
def tpp(server: LiveServer, register_app) -> Iterator[Tpp]:
    client = Tpp(server, register_app("tpp"))
    yield client
    client.http.close()


@pytest.fixture
def other_tpp(server: LiveServer, register_app) -> Iterator[Tpp]:
    client = Tpp(server, register_app("tpp", name="Another TPP"))
    yield client
    client.http.close()
