"""The consent service's rules, with fake storage and a fake bank: each test fails when the rule
it names is deleted."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.aio import run

from webview_bridge.banks.connector import Consent, Finished as BankAnswer, Started
from webview_bridge.banks.directory import Bank
from webview_bridge.banks.model import Account, BankUnavailable
from webview_bridge.domain import consent as flow
from webview_bridge.domain.customers import ClientToken
from webview_bridge.domain.errors import Conflict, Invalid, NotAllowed
from webview_bridge.domain.token_requests import TokenRequest

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)
SANDBOX = Bank("sandbox", "Sandbox Bank", "SNDBGB2L", ("GB",), "available", supports_balance=True)
OTHER = Bank("other", "Other Bank", "OTHRGB2L", ("GB",), "available", supports_balance=True)
FRENCH = Bank("fr", "Banque", "BANQFRPP", ("FR",), "available", supports_balance=True)
NO_BALANCES = Bank("plain", "Plain Bank", "PLANGB2L", ("GB",), "available")
DOWN = Bank("down", "Down Bank", "DOWNGB2L", ("GB",), "maintenance", supports_balance=True)
ALICE = (Account("acc_1", "Everyday", "CHECKING", "GBP", "sandbox", None),
         Account("acc_2", "Savings", "SAVINGS", "GBP", "sandbox", None))


def request(**details) -> TokenRequest:
    return TokenRequest(
        id="rq_1", app_id="app_tpp", status="PENDING", created_at=NOW, expires_at=NOW + timedelta(minutes=20),
        csrf_token_hash="h", token_id=None, error=None,
        details={"resources": ["ACCOUNTS", "BALANCES"], "redirect_url": "https://tpp/cb", "token_expiration_days": 90,
                 "description": "why", **details},
    )


class FakeStore:
    def __init__(self, rq: TokenRequest) -> None:
        self.request = rq
        self.state: flow.FlowState | None = None
        self.approvals: list[flow.Approval] = []
        self.strong_auth_spent: set[str] = set()

    async def load(self, request_id):
        return self.request, self.state

    async def choose_bank(self, request_id, bank_id, chooser):
        self.state = flow.FlowState(request_id, bank_id, chooser)

    async def go_to_bank(self, request_id, chooser, nonce, handle, bank_url):
        if self.state is None or self.state.chooser != chooser:
            return False
        self.state = replace(self.state, bank_nonce=nonce, bank_handle=handle, bank_url=bank_url)
        return True

    async def take_return(self, request_id, nonce):
        if self.state is None or self.state.bank_nonce != nonce:
            return None
        handle = self.state.bank_handle
        self.state = replace(self.state, bank_nonce=None)
        return handle

    async def approve(self, request_id, approval, finished_by):
        if self.request.status != "PENDING":
            return None
        self.approvals.append(approval)
        self.request = replace(self.request, status="PROCESSED", token_id="tt_1")
        self.state = replace(self.state or flow.FlowState(request_id), finished_by=finished_by)
        return "tt_1"

    async def reject(self, request_id, error, finished_by):
        if self.request.status != "PENDING":
            return False
        self.request = replace(self.request, status="REJECTED", error=error)
        self.state = replace(self.state or flow.FlowState(request_id), finished_by=finished_by)
        return True

    async def spend_strong_auth(self, client_token_id):
        if client_token_id in self.strong_auth_spent:
            return False
        self.strong_auth_spent.add(client_token_id)
        return True


class FakeBanks:
    def __init__(self, answer: BankAnswer | None = None, fails: bool = False) -> None:
        self.banks = {b.id: b for b in (SANDBOX, OTHER, FRENCH, NO_BALANCES, DOWN)}
        self.answer = answer or BankAnswer("granted", Consent(ALICE, "creds", "alice"))
        self.fails = fails
        self.started: list = []
        self.trusted_grants: list = []

    def get(self, bank_id):
        return self.banks.get(bank_id)

    def offers_trusted(self, bank):
        return True

    async def start(self, bank, ask):
        if self.fails:
            raise BankUnavailable("down")
        self.started.append(ask)
        return Started(f"https://bank/{bank.id}/sca", "handle-1")

    async def finish(self, bank, handle, customer):
        if self.fails:
            raise BankUnavailable("down")
        assert handle == "handle-1"
        return self.answer

    async def trusted_accounts(self, bank, bank_user):
        return list(ALICE)

    async def trusted_grant(self, bank, bank_user, account_ids, resources, valid_until):
        self.trusted_grants.append(account_ids)
        return Consent(tuple(a for a in ALICE if a.id in account_ids), "trusted-creds", bank_user)


async def way_back(rq, *, token_id=None, error=None):
    return f"{rq.redirect_url}?token-id={token_id}&error={error}"


def service(rq=None, **bank_options) -> tuple[flow.ConsentService, FakeStore, FakeBanks]:
    store, banks = FakeStore(rq or request()), FakeBanks(**bank_options)
    return flow.ConsentService(store, banks, way_back, now=lambda: NOW, return_url=lambda r, n: f"https://us/cb?{r}.{n}",
                               keyed_hash=lambda v: "k" + v), store, banks


ME = flow.Visitor(session="s1")
STRANGER = flow.Visitor(session="s2")


def at_bank(svc, store, visitor=ME, bank="sandbox"):
    run(svc.choose(store.request, visitor, bank))
    return run(svc.allow(store.request, store.state, visitor, app_name="Pennywise"))


def test_a_request_that_names_a_bank_refuses_another():
    svc, store, _ = service(request(bank_id="sandbox"))
    with pytest.raises(Invalid) as refused:
        run(svc.choose(store.request, ME, "other"))
    assert refused.value.code == "bank_not_allowed" and store.state is None
    assert isinstance(run(svc.choose(store.request, ME, "sandbox")), flow.ToConsent)


@pytest.mark.parametrize(("bank_id", "code"), [("fr", "bank_not_offered"), ("plain", "bank_not_offered"),
                                               ("down", "bank_unavailable"), ("nope", "unknown_bank")])
def test_only_an_available_bank_the_request_can_use_is_chosen(bank_id, code):
    svc, store, _ = service(request(countries=["GB"]))
    with pytest.raises(Invalid) as refused:
        run(svc.choose(store.request, ME, bank_id))
    assert refused.value.code == code and store.state is None


def test_only_the_session_that_chose_the_bank_sees_the_consent_or_goes_on():
    svc, store, _ = service()
    run(svc.choose(store.request, ME, "sandbox"))
    assert isinstance(run(svc.consent_screen(store.request, store.state, ME)), flow.ConsentScreen)
    with pytest.raises(NotAllowed):
        run(svc.consent_screen(store.request, store.state, STRANGER))
    with pytest.raises(NotAllowed):
        run(svc.allow(store.request, store.state, STRANGER, app_name="x"))
    with pytest.raises(NotAllowed):
        svc.at_bank(store.state, STRANGER)


def test_allow_creates_the_consent_at_the_bank_and_sends_the_customer_there():
    svc, store, banks = service()
    outcome = at_bank(svc, store)
    assert outcome == flow.ToBank(SANDBOX, "https://bank/sandbox/sca", external=False)
    ask = banks.started[0]
    assert ask.resources == ("ACCOUNTS", "BALANCES") and ask.app_name == "Pennywise"
    assert ask.valid_until == (NOW + timedelta(days=90)).date()
    assert ask.return_url == f"https://us/cb?rq_1.{store.state.bank_nonce}"
    assert svc.at_bank(store.state, ME) == (SANDBOX, "https://bank/sandbox/sca")


def test_the_token_gets_exactly_the_accounts_the_bank_says_its_consent_covers():
    covered = Consent((ALICE[1],), "creds", "alice")
    svc, store, _ = service(answer=BankAnswer("granted", covered))
    at_bank(svc, store)
    outcome = run(svc.bank_returned(store.request, store.state, store.state.bank_nonce, ME))
    assert isinstance(outcome, flow.BackToTpp) and "token-id=tt_1" in outcome.url
    assert store.approvals[0].account_ids == ("acc_2",) and store.approvals[0].credentials == "creds"
    assert store.approvals[0].bank_user == "alice" and store.approvals[0].customer_id == "cus_" + "kcustomer:sandbox:alice"[:32]


def test_a_consent_covering_no_account_grants_nothing():
    with pytest.raises(Invalid):
        flow.covered_accounts(Consent((), "creds", None))


def test_a_bank_return_is_accepted_once():
    svc, store, _ = service()
    at_bank(svc, store)
    nonce = store.state.bank_nonce
    run(svc.bank_returned(store.request, store.state, nonce, ME))
    store.request = replace(store.request, status="PENDING")  # even were the request still open
    with pytest.raises(Conflict):
        run(svc.bank_returned(store.request, store.state, nonce, ME))
    assert len(store.approvals) == 1


def test_a_return_with_a_wrong_nonce_grants_nothing():
    svc, store, _ = service()
    at_bank(svc, store)
    with pytest.raises(Conflict):
        run(svc.bank_returned(store.request, store.state, "forged", ME))
    assert store.approvals == [] and store.request.status == "PENDING"


def test_cancel_at_the_bank_ends_with_access_denied():
    svc, store, _ = service(answer=BankAnswer("denied"))
    at_bank(svc, store)
    outcome = run(svc.bank_returned(store.request, store.state, store.state.bank_nonce, ME))
    assert isinstance(outcome, flow.BackToTpp) and "error=access_denied" in outcome.url
    assert store.request.status == "REJECTED" and store.approvals == []


def test_deny_ends_with_access_denied_and_one_way_back():
    svc, store, _ = service()
    run(svc.choose(store.request, ME, "sandbox"))
    outcome = run(svc.end_without_token(store.request, ME.session, "access_denied"))
    assert outcome == flow.BackToTpp("https://tpp/cb?token-id=None&error=access_denied")
    again = run(svc.end_without_token(store.request, ME.session, "access_denied"))
    assert isinstance(again, flow.Finished) and again.status == "REJECTED"


def test_an_exit_cannot_invent_its_own_error():
    svc, store, _ = service()
    run(svc.end_without_token(store.request, ME.session, "server_error"))
    assert store.request.error == "access_denied"


def test_a_bank_that_fails_shows_bank_down_and_changes_nothing():
    svc, store, _ = service(fails=True)
    run(svc.choose(store.request, ME, "sandbox"))
    outcome = run(svc.allow(store.request, store.state, ME, app_name="x"))
    assert outcome == flow.BankDown(SANDBOX, can_choose_again=True)
    assert store.request.status == "PENDING" and store.state.bank_nonce is None
    preset, preset_store, _ = service(request(bank_id="sandbox"), fails=True)
    run(preset.choose(preset_store.request, ME, "sandbox"))
    assert run(preset.allow(preset_store.request, preset_store.state, ME, app_name="x")).can_choose_again is False


def test_only_the_session_that_finished_sees_the_way_back_and_only_until_expiry():
    svc, store, _ = service()
    at_bank(svc, store)
    run(svc.bank_returned(store.request, store.state, store.state.bank_nonce, ME))
    mine = run(svc.ending(store.request, store.state, ME.session))
    assert mine.status == "PROCESSED" and "token-id=tt_1" in mine.way_back
    assert run(svc.ending(store.request, store.state, STRANGER.session)).way_back is None
    assert run(svc.ending(store.request, store.state, None)).way_back is None
    later, later_store, _ = service()
    at_bank(later, later_store)
    run(later.bank_returned(later_store.request, later_store.state, later_store.state.bank_nonce, ME))
    later.now = lambda: NOW + timedelta(minutes=21)
    assert run(later.ending(later_store.request, later_store.state, ME.session)).way_back is None


def test_an_expired_request_offers_request_expired_to_anyone():
    svc, store, _ = service()
    svc.now = lambda: NOW + timedelta(minutes=20)
    ending = run(svc.ending(store.request, None, None))
    assert ending.status == "EXPIRED" and "error=request_expired" in ending.way_back


def strong_token(**changes) -> ClientToken:
    token = ClientToken(id="ct_1", bank_app_id="app_bank", customer_id="cus_alice", customer_ref="alice",
                        activation="preloaded", strong_auth=True, expires_at=NOW + timedelta(minutes=10), used_at=None)
    return replace(token, **changes)


def test_the_trusted_path_lists_accounts_here_and_grants_the_ticked_ones_at_once():
    svc, store, banks = service()
    visitor = flow.Visitor("s1", strong_token(), issuing_bank_id="sandbox")
    run(svc.choose(store.request, visitor, "sandbox"))
    screen = run(svc.consent_screen(store.request, store.state, visitor))
    assert screen.trusted_accounts == ALICE
    with pytest.raises(Invalid):
        run(svc.allow(store.request, store.state, visitor, app_name="x", chosen_accounts=()))
    with pytest.raises(Invalid):
        run(svc.allow(store.request, store.state, visitor, app_name="x", chosen_accounts=("acc_someone_elses",)))
    outcome = run(svc.allow(store.request, store.state, visitor, app_name="x", chosen_accounts=("acc_1",)))
    assert isinstance(outcome, flow.BackToTpp) and banks.started == []
    assert banks.trusted_grants == [("acc_1",)] and store.approvals[0].account_ids == ("acc_1",)
    assert store.approvals[0].customer_id == "cus_alice"  # the bank's own customer


@pytest.mark.parametrize("visitor", [
    flow.Visitor("s1", strong_token(strong_auth=False), issuing_bank_id="sandbox"),
    flow.Visitor("s1", strong_token(), issuing_bank_id="other"),
    flow.Visitor("s1", strong_token(used_at=NOW), issuing_bank_id="sandbox"),
    flow.Visitor("s1", strong_token(expires_at=NOW), issuing_bank_id="sandbox"),
], ids=["not-strong", "other-bank", "used", "expired"])
def test_anything_else_goes_through_the_banks_pages(visitor):
    svc, store, banks = service()
    run(svc.choose(store.request, visitor, "sandbox"))
    assert run(svc.consent_screen(store.request, store.state, visitor)).trusted_accounts is None
    assert isinstance(run(svc.allow(store.request, store.state, visitor, app_name="x")), flow.ToBank)


def test_a_strong_auth_skip_is_spent_once():
    svc, store, _ = service()
    visitor = flow.Visitor("s1", strong_token(), issuing_bank_id="sandbox")
    run(svc.choose(store.request, visitor, "sandbox"))
    store.strong_auth_spent.add("ct_1")
    with pytest.raises(Conflict):
        run(svc.allow(store.request, store.state, visitor, app_name="x", chosen_accounts=("acc_1",)))
    assert store.approvals == []


def test_approval_happens_at_most_once():
    svc, store, _ = service()
    at_bank(svc, store)
    nonce = store.state.bank_nonce
    store.request = replace(store.request, status="REJECTED", error="access_denied")  # decided elsewhere meanwhile
    outcome = run(svc.bank_returned(store.request, store.state, nonce, ME))
    assert isinstance(outcome, flow.Finished) and store.approvals == []
