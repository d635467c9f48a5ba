"""The bank's login: user name and password, then (for carol) a one-time code.

GET shows the screen of the step the authorisation is at; each POST takes one step and answers
with the next screen (303) or the same screen with its error tied to the field it is about.
Wrong guesses count twice: against this authorisation (max_login_failures, then the consent is
rejected and the customer sent back) and against the user name (locked for the rest of the hour
after attempts.LOCKOUT_FAILURES, with one answer whatever the password).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from webview_bridge.i18n import N_
from webview_bridge.sandbox_bank import attempts, store
from webview_bridge.sandbox_bank.config import SandboxConfig
from webview_bridge.sandbox_bank.consents import after_cancel
from webview_bridge.sandbox_bank.data import is_login, normalise_login
from webview_bridge.sandbox_bank.pages import consent as consent_page
from webview_bridge.sandbox_bank.pages.guard import Stop, Visit, check_form, finished, open_visit, see_page, way_back
from webview_bridge.rendering import logo_css, render

LOCKED = N_("Too many failed attempts for this user. Try again in an hour.")
WRONG_LOGIN = N_("The username or password is not right.")
WRONG_CODE = N_("That one-time code is not right.")


def signin_page(visit: Visit, *, problem: str | None = None, fields: tuple[str, ...] = (), username: str = "",
                status: int = 200) -> Response:
    """The login screen, or the one-time code screen once the password step is passed.
    `fields` are the inputs the problem is about (aria-invalid, aria-describedby)."""
    context: dict[str, Any] = {
        "bank": visit.bank, "logo_css": logo_css([visit.bank]), "csrf": visit.csrf, "action": visit.page_path,
        "second_factor": visit.authorisation.step == "otp", "problem": problem, "invalid": fields, "username": username,
    }
    return visit.keep_cookie(render(visit.request.app.state.templates, visit.request, "sandbox_bank_login.html", context, status=status))


async def show(request: Request, config: SandboxConfig) -> Response:
    try:
        visit = await open_visit(request, config, posting=False)
    except Stop as stop:
        return stop.response
    if visit.authorisation.step == "consent":
        return visit.keep_cookie(consent_page.consent_screen(visit))
    return signin_page(visit)


async def end_rejected(visit: Visit, from_step: str) -> Response:
    """Cancel, or the last allowed failure: the consent is rejected and the customer goes back (nok)."""
    config = visit.config
    now = config.clock.now()
    outcome, consent = await config.db.run(lambda: store.finish(
        config.db, visit.authorisation.link_hash, from_step, after_cancel, today=now.date(), now=now,
        psu_id=visit.authorisation.psu_id))
    if outcome != "finished" or consent is None or consent.way_back_nok is None:
        return finished(visit.request, visit.bank)
    return way_back(visit, consent.way_back_nok)


async def _failed(visit: Visit, username: str | None) -> Response | None:
    """Counts a failure; the way back when it was the last one this authorisation allows."""
    config = visit.config
    now = config.clock.now()
    failures = await config.db.run(store.record_failure, config.db, visit.authorisation.link_hash, visit.bank.id,
                                   username, now, now - attempts.LOCKOUT_WINDOW)
    if attempts.authorisation_spent(failures, config.max_login_failures):
        return await end_rejected(visit, visit.authorisation.step)
    return None


async def _locked(visit: Visit, username: str) -> bool:
    config = visit.config
    since = config.clock.now() - attempts.LOCKOUT_WINDOW
    return attempts.is_locked(await config.db.run(store.recent_failures, config.db, visit.bank.id, username, since))


async def _posted(request: Request, config: SandboxConfig, step: str) -> tuple[Visit, Any] | Response:
    try:
        visit = await open_visit(request, config, posting=True)
        form = await request.form()
        check_form(visit, form)
    except Stop as stop:
        return stop.response
    if visit.authorisation.step != step:  # a replay of a step already taken: show where things stand
        return see_page(visit)
    return visit, form


async def log_in(request: Request, config: SandboxConfig) -> Response:
    posted = await _posted(request, config, "login")
    if isinstance(posted, Response):
        return posted
    visit, form = posted
    if form.get("action") == "cancel":
        return await end_rejected(visit, "login")
    given = str(form.get("username", ""))
    username, password = normalise_login(given), str(form.get("password", ""))
    if not username:
        return signin_page(visit, problem=N_("Enter your username."), fields=("username",), status=400)
    if not password:
        return signin_page(visit, problem=N_("Enter your password."), fields=("password",), username=given, status=400)
    known_form = is_login(username)
    locked = known_form and await _locked(visit, username)
    if locked or not known_form or not attempts.password_ok(password):
        # A locked user's attempt is not counted against the name again, so the lock ends an hour after it began.
        ended = await _failed(visit, username if known_form and not locked else None)
        if ended is not None:
            return ended
        if locked:
            return signin_page(visit, problem=LOCKED, fields=("username",), username=given, status=403)
        return signin_page(visit, problem=WRONG_LOGIN, fields=("username", "password"), username=given, status=401)
    next_step = "otp" if attempts.needs_second_factor(username) else "consent"
    await config.db.run(store.advance, config.db, visit.authorisation.link_hash, "login", next_step, username)
    return see_page(visit)


async def one_time_code(request: Request, config: SandboxConfig) -> Response:
    posted = await _posted(request, config, "otp")
    if isinstance(posted, Response):
        return posted
    visit, form = posted
    if form.get("action") == "cancel":
        return await end_rejected(visit, "otp")
    code = str(form.get("one_time_code", "")).strip()
    if not code:
        return signin_page(visit, problem=N_("Enter the one-time code."), fields=("one_time_code",), status=400)
    username = visit.authorisation.psu_id or ""
    locked = await _locked(visit, username)
    if locked or not attempts.one_time_code_ok(code):
        ended = await _failed(visit, None if locked else username)
        if ended is not None:
            return ended
        if locked:
            return signin_page(visit, problem=LOCKED, fields=("one_time_code",), status=403)
        return signin_page(visit, problem=WRONG_CODE, fields=("one_time_code",), status=401)
    await config.db.run(store.advance, config.db, visit.authorisation.link_hash, "otp", "consent", username)
    return see_page(visit)
