"""The bank's consent screen: who asks (the certificate holder, and the TPP's app when it said
which), for what, until when, and which accounts — each a checkbox, all ticked. Confirm with at
least one account makes the consent valid and sends the customer to TPP-Redirect-URI exactly as
given; Cancel, or Confirm with none ticked, rejects it and sends them to the nok URI."""

from __future__ import annotations

from datetime import datetime, time, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from webview_bridge.i18n import N_
from webview_bridge.sandbox_bank import store
from webview_bridge.sandbox_bank.config import SandboxConfig
from webview_bridge.sandbox_bank.consents import after_authorisation, covers
from webview_bridge.sandbox_bank.data import BankAccount, BankFacts, accounts_of, holder_name
from webview_bridge.sandbox_bank.pages.guard import Stop, Visit, check_form, finished, open_visit, see_page, way_back
from webview_bridge.rendering import logo_css, render

_KINDS = {"CHECKING": N_("Current account"), "SAVINGS": N_("Savings"), "CARD": N_("Card")}


def _services(visit: Visit) -> list[str]:
    """What the TPP will be able to see, in plain words."""
    access, bank = visit.consent.access, visit.bank
    words = [N_("See your account names, types and numbers")]
    if covers(access, "balances"):
        words.append(N_("See your balances"))
    if covers(access, "transactions"):
        words.append(N_("See your transactions, going back up to 13 months"))
        if bank.supports_standing_order:
            words.append(N_("See your standing orders"))
    if covers(access, "trustedBeneficiaries"):
        words.append(N_("See the payees you marked as trusted"))
    if covers(access, "ownerName"):
        words.append(N_("See the account holder's name"))
    return words


def _digits(account: BankAccount) -> str:
    number = account.masked_pan or account.iban or ""
    return "•••• " + number[-4:] if number else ""


def customer_accounts(visit: Visit) -> list[BankAccount]:
    """Current accounts first, then cards: everything the customer can share."""
    found = accounts_of(BankFacts.of(visit.bank), visit.authorisation.psu_id or "")
    return [a for a in found if not a.is_card] + [a for a in found if a.is_card]


def consent_screen(visit: Visit) -> Response:
    consent = visit.consent
    context: dict[str, Any] = {
        "bank": visit.bank, "logo_css": logo_css([visit.bank]), "csrf": visit.csrf,
        "action": visit.page_path + "/decision", "tpp": visit.config.tpp_name, "app": consent.tpp_brand,
        "holder": holder_name(visit.authorisation.psu_id or ""), "services": _services(visit),
        "until": datetime.combine(consent.valid_until, time(0), tzinfo=timezone.utc),
        "recurring": consent.recurring, "frequency": consent.frequency_per_day,
        "accounts": [(a, _KINDS[a.kind], _digits(a)) for a in customer_accounts(visit)],
    }
    return render(visit.request.app.state.templates, visit.request, "sandbox_bank_consent.html", context)


async def decide(request: Request, config: SandboxConfig) -> Response:
    try:
        visit = await open_visit(request, config, posting=True)
        form = await request.form()
        check_form(visit, form)
    except Stop as stop:
        return stop.response
    if visit.authorisation.step != "consent":
        return see_page(visit)
    ticked = set(str(v) for v in form.getlist("account")) if form.get("action") == "confirm" else set()
    # Only the customer's own accounts count, in the bank's order, whatever else a post names.
    chosen = [a.resource_id for a in customer_accounts(visit) if a.resource_id in ticked]
    now = config.clock.now()
    outcome, consent = await config.db.run(lambda: store.finish(
        config.db, visit.authorisation.link_hash, "consent", lambda status: after_authorisation(status, len(chosen)),
        today=now.date(), now=now, psu_id=visit.authorisation.psu_id, accounts=chosen))
    if outcome != "finished" or consent is None:  # a replay, or the TPP or the clock ended the consent meanwhile
        return finished(request, visit.bank)
    url = consent.redirect_uri if consent.status == "valid" else consent.way_back_nok
    return way_back(visit, url or "")
