"""Client authentication at /oauth/token and /oauth/revoke (RFC 6749 §2.3; PROTOCOL §2): one
method per request, the app id decoded once, and an unknown app id doing exactly the work of a
wrong secret."""

import base64
import sys
from pathlib import Path

import httpx2
import pytest

from tests.support.aio import run

import webview_bridge
from webview_bridge.domain.errors import Invalid
from webview_bridge.oauth.client_auth import APP_BUDGET, BASIC, FAILURE_BUDGET, POST, Presented, budget, presented

PACKAGE = str(Path(webview_bridge.__file__).parent)


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


# --- the rules ---------------------------------------------------------------------------------

def test_one_method_per_request():
    assert presented(basic("app_a", "s"), {"grant_type": "x"}) == Presented(BASIC, "app_a", "s")
    assert presented("", {"client_id": "app_a", "client_secret": "s"}) == Presented(POST, "app_a", "s")
    assert presented("Bearer t", {"client_id": "app_a"}) == Presented(POST, "app_a", "")
    assert presented("", {}) == Presented(None, "", "")
    # Many clients repeat their own id in the body: that is not a second method.
    assert presented(basic("app_a", "s"), {"client_id": "app_a"}) == Presented(BASIC, "app_a", "s")
    for form in ({"client_id": "app_b", "client_secret": "t"}, {"client_id": "app_a", "client_secret": "s"},
                 {"client_secret": "s"}, {"client_id": "app_b"}):
        with pytest.raises(Invalid) as refused:
            presented(basic("app_a", "s"), form)
        assert refused.value.code == "invalid_request"


def test_basic_credentials_are_form_decoded_once_rfc6749_2_3_1():
    assert presented(basic("app%5Fa", "se%2Bcr%3Aet"), {}) == Presented(BASIC, "app_a", "se+cr:et")
    assert presented(basic("app+a", "s+t"), {}) == Presented(BASIC, "app a", "s t")
    assert presented(basic("app%5Fa", "s"), {"client_id": "app_a"}).client_id == "app_a"
    with pytest.raises(Invalid) as unreadable:
        presented("Basic %%%", {})
    assert unreadable.value.code == "invalid_client"


def test_budgets():
    assert budget(Presented(BASIC, "app_a", "s"), "app_a", "10.0.0.1") == (APP_BUDGET, "app_a")
    failed = budget(Presented(BASIC, "app_a", "wrong"), None, "10.0.0.1")
    assert failed[0] == FAILURE_BUDGET
    assert failed != budget(Presented(BASIC, "app_a", "wrong"), None, "10.0.0.2")  # per address…
    assert failed != budget(Presented(BASIC, "app_b", "wrong"), None, "10.0.0.1")  # …and per app id
    assert failed == budget(Presented(POST, "app_a", "other"), None, "10.0.0.1")  # whichever the method
    # Keys are stored on PostgreSQL: whatever is presented, "kind:key" fits the column.
    from webview_bridge.store.schema import rate_counters

    width = rate_counters.c.bucket.type.length
    long_id, odd_address = "x" * 10_000, "2001:db8:" + "f" * 300
    keys = {budget(Presented(POST, i, ""), None, a) for i in (long_id, long_id + "y") for a in (odd_address, "10.0.0.1")}
    assert len(keys) == 4 and all(len(f"{kind}:{key}") <= width for kind, key in keys)


# --- over HTTP ---------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", ["/oauth/token", "/oauth/revoke"])
def test_basic_and_body_credentials_together_are_invalid_request(http, register_app, endpoint):
    mine, theirs = register_app("tpp"), register_app("tpp")
    form = {"grant_type": "client_credentials", "token": "t"}
    for body in ({"client_id": theirs.app_id, "client_secret": theirs.app_secret},
                 {"client_id": mine.app_id, "client_secret": mine.app_secret},
                 {"client_secret": theirs.app_secret}):
        refused = http.post(endpoint, data={**form, **body}, auth=(mine.app_id, mine.app_secret))
        assert (refused.status_code, refused.json()["error"]) == (400, "invalid_request"), refused.text
    alone = http.post(endpoint, data={**form, "client_id": mine.app_id}, auth=(mine.app_id, mine.app_secret))
    assert alone.status_code == 200


def test_a_percent_encoded_app_id_in_basic_is_that_app(http, register_app):
    creds = register_app("tpp")
    encoded = creds.app_id.replace("_", "%5F")
    answer = http.post("/oauth/token", data={"grant_type": "client_credentials"},
                       headers={"Authorization": basic(encoded, creds.app_secret)})
    assert answer.status_code == 200
    me = http.get("/me", headers={"Authorization": f"Bearer {answer.json()['access_token']}"})
    assert me.json()["app"]["id"] == creds.app_id


def _work(app, authorization: str) -> tuple[list[str], httpx2.Response]:
    """Every call of our own code (and every constant-time comparison) made while the app answers
    one token request, in order; and the answer. The request runs on this thread (SQLite work runs
    inline on the event loop), so a profiler sees all of it."""
    calls: list[str] = []

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(PACKAGE):
            calls.append(f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}")
        elif event == "c_call" and getattr(arg, "__name__", "") == "compare_digest":
            calls.append("compare_digest")

    async def post() -> httpx2.Response:
        async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as client:
            sys.setprofile(profile)
            try:
                return await client.post("/oauth/token", data={"grant_type": "client_credentials"},
                                         headers={"Authorization": authorization})
            finally:
                sys.setprofile(None)

    return calls, run(post())


@pytest.mark.databases("sqlite")
def test_an_unknown_app_id_does_the_same_work_as_a_wrong_secret_and_gets_the_same_answer(app, register_app):
    creds = register_app("tpp")
    wrong_secret = basic(creds.app_id, "not-the-secret-" + "x" * 28)
    unknown_app = basic("app_" + "Q" * 22, "not-the-secret-" + "y" * 28)
    for _ in range(2):  # first calls fill caches (compiled statements, derived keys)
        _work(app, wrong_secret), _work(app, unknown_app)
    wrong_calls, wrong = _work(app, wrong_secret)
    unknown_calls, unknown = _work(app, unknown_app)
    assert "keyring.py:hash" in unknown_calls and "compare_digest" in unknown_calls  # the secret is hashed and compared
    assert unknown_calls == wrong_calls  # step for step, nothing more or less for an unknown id
    assert (wrong.status_code, wrong.json()) == (unknown.status_code, unknown.json()) == (
        401, {"error": "invalid_client", "error_description": wrong.json()["error_description"]})
    assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"]
    right_calls, right = _work(app, basic(creds.app_id, creds.app_secret))
    assert right.status_code == 200 and right_calls != wrong_calls  # the trace does see a difference when there is one
