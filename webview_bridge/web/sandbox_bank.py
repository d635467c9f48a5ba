"""The sandbox bank's own login page. It stands in for a bank's website: the flow reaches it by
a 302 as it would a real bank, and it answers by sending the customer back to the bank-callback
URL with a short-lived code (or `error=bank_unavailable`)."""

from __future__ import annotations

from itsdangerous import BadSignature
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from webview_bridge.banks.connector import BankUnavailable, LoginFailed, SecondFactorRequired
from webview_bridge.banks.directory import get_bank
from webview_bridge.banks.sandbox import SandboxConnector
from webview_bridge.domain.redirects import tpp_redirect
from webview_bridge.errors import ApiError
from webview_bridge.i18n import N_
from webview_bridge.web.templating import logo_css, render

PENDING_MAX_AGE = 300


def _return_url(request: Request, given: str) -> str:
    """The sandbox bank only ever returns to this server's bank callback (its one registered URL)."""
    expected = f"{request.app.state.runtime.settings.base_url}/app/bank-callback"
    if given != expected:
        raise ApiError(400, "invalid_return_url", "this bank returns only to its registered callback")
    return expected


def _login_page(request: Request, bank, state: str, return_url: str, *, problem: str | None = None,
                pending: str | None = None, username: str = "", status: int = 200) -> Response:
    return render(request, "sandbox_bank_login.html", {
        "bank": bank, "logo_css": logo_css([bank]), "state": state, "return_url": return_url, "problem": problem,
        "pending": pending, "username": username,
    }, status=status)


def _bank(request: Request):
    bank = get_bank(request.path_params["bank_id"])
    connector = request.app.state.runtime.connector
    if bank is None or not isinstance(connector, SandboxConnector):
        raise ApiError(404, "not_found", "no such bank")
    return bank, connector


async def login_form(request: Request) -> Response:
    bank, _ = _bank(request)
    return_url = _return_url(request, request.query_params.get("return_url", ""))
    return _login_page(request, bank, request.query_params.get("state", ""), return_url)


async def login(request: Request) -> Response:
    bank, connector = _bank(request)
    form = await request.form()
    state = str(form.get("state", ""))
    return_url = _return_url(request, str(form.get("return_url", "")))
    pending_signer = request.app.state.runtime.keyring.serializer("sandbox-bank-pending")
    username = str(form.get("username", ""))
    password = str(form.get("password", ""))
    code = str(form.get("one_time_code", "")) or None
    pending = str(form.get("pending", "")) or None
    try:
        if pending:  # second step: the password was right a moment ago
            try:
                username = pending_signer.loads(pending, max_age=PENDING_MAX_AGE)["username"]
            except (BadSignature, KeyError, TypeError):
                return _login_page(request, bank, state, return_url, problem=N_("That took too long. Log in again."), status=401)
            customer_ref = connector.check_one_time_code(bank, username, code or "")
        else:
            customer_ref = connector.check_login(bank, username, password, code)
    except SecondFactorRequired:
        # Carries only who passed the password step, signed; never the password.
        token = pending_signer.dumps({"username": username.strip().lower()})
        return _login_page(request, bank, state, return_url, pending=token, username=username)
    except LoginFailed as failure:
        return _login_page(request, bank, state, return_url, problem=str(failure), pending=pending,
                           username=username, status=401)
    except BankUnavailable:
        return RedirectResponse(tpp_redirect(return_url, {"state": state, "error": "bank_unavailable"}), status_code=302)
    answer = connector.issue_code(bank, customer_ref, state)
    return RedirectResponse(tpp_redirect(return_url, {"state": state, "code": answer}), status_code=302)


routes = [
    Route("/sandbox-bank/{bank_id}/authorize", login_form, methods=["GET"]),
    Route("/sandbox-bank/{bank_id}/authorize", login, methods=["POST"]),
]
