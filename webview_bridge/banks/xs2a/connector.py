"""The `xs2a` connector: Berlin Group NextGenPSD2 Access-to-Account 1.3.x, redirect SCA
(PROTOCOL §11), on httpx2 — one pooled client per bank, with the bank's TLS client certificate
(the QWAC), CA bundle, time limits and, where the bank asks for it, QSealC request signing.

Flow: POST /v1/consents (bank-offered: empty access lists, the customer chooses accounts at the
bank) → the customer at `_links.scaRedirect` → back at our return URL → GET /v1/consents/{id}/status
(`valid` = granted; anything else = denied) → GET /v1/consents/{id} and the account lists for the
accounts it covers, the three at once. Reads carry `Consent-ID`; `DELETE /v1/consents/{id}` ends
it. `PSU-IP-Address` and `PSU-User-Agent` go only on calls the customer triggers; reads for a TPP
omit them and count against the bank's `frequencyPerDay`.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import ssl
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

import httpx2

from webview_bridge.banks.connector import Consent, ConsentAsk, Customer, Finished, Started
from webview_bridge.banks.directory import Bank, ConnectorSettings
from webview_bridge.banks.model import (
    Account, AccountUnknown, Balance, BankRateLimited, BankUnavailable, ConsentEnded, Money, StandingOrder,
    Transaction, TransferDestination,
)
from webview_bridge.banks.transport import bank_transport
from webview_bridge.banks.xs2a import mapping
from webview_bridge.banks.xs2a.openapi import Exchange
from webview_bridge.banks.xs2a.signing import RequestSigner

MAX_PAGES = 200  # a bank whose `next` links never end is not followed for ever
_CONSENT_ERRORS = {"CONSENT_INVALID", "CONSENT_EXPIRED", "CONSENT_UNKNOWN", "CONSENT_ACCESS_EXCEEDED"}
_DENIED = {"rejected", "revokedByPsu", "expired", "terminatedByTpp", "received", "partiallyAuthorised"}


async def _at_once(*calls: Awaitable[Any]) -> list[Any]:
    """Calls to the bank that do not depend on each other, made at the same time: the customer
    waits for the slowest, not for their sum. The first to fail is the answer; the rest are
    cancelled."""
    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(call) for call in calls]  # type: ignore[arg-type]
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


@dataclass(frozen=True)
class _Held:
    """One account as a consent holds it: which list it is in at the bank, and the bank's ids."""

    card: bool
    resource_id: str
    reference: dict[str, str]  # {"iban": …} | {"bban": …} | {"maskedPan": …}, for funds confirmation


def _reference(raw: dict[str, Any]) -> dict[str, str]:
    for key in ("iban", "bban", "maskedPan", "pan", "msisdn"):
        if raw.get(key):
            return {key: raw[key]}
    return {}


class _Credentials:
    """What reading needs, as the connector keeps it (the server stores it encrypted)."""

    def __init__(self, consent_id: str, accounts: dict[str, _Held], bank_user: str | None) -> None:
        self.consent_id = consent_id
        self.accounts = accounts
        self.bank_user = bank_user

    def dumps(self) -> str:
        return json.dumps({"consent_id": self.consent_id, "bank_user": self.bank_user, "accounts": {
            k: [int(h.card), h.resource_id, h.reference] for k, h in self.accounts.items()}}, separators=(",", ":"))

    @classmethod
    def loads(cls, text: str) -> _Credentials:
        raw = json.loads(text)
        return cls(raw["consent_id"], {k: _Held(bool(v[0]), v[1], v[2]) for k, v in raw["accounts"].items()},
                   raw.get("bank_user"))

    def held(self, account_id: str) -> _Held:
        found = self.accounts.get(account_id)
        if found is None:
            raise AccountUnknown(account_id)
        return found


def psu_ip_address(address: str | None, own_ipv4: Callable[[], str]) -> str | None:
    """The customer's address as the file allows it (IPv4 only): an IPv4-mapped IPv6 address is
    unwrapped; any other IPv6 customer is sent as the server's own IPv4 address."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv4Address):
        return str(parsed)
    return str(parsed.ipv4_mapped) if parsed.ipv4_mapped else own_ipv4()


def _seconds_to_midnight(now: datetime) -> int:
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((tomorrow - now).total_seconds()))


def _retry_after(response: httpx2.Response) -> int | None:
    value = response.headers.get("retry-after", "")
    return int(value) if value.isdigit() else None


def _error_codes(response: httpx2.Response) -> set[str]:
    try:
        body = response.json()
    except ValueError:
        return set()
    messages = body.get("tppMessages") or body.get("additionalErrors") or [] if isinstance(body, dict) else []
    return {str(m.get("code")) for m in messages if isinstance(m, dict)}


class Xs2aConnector:
    """One bank's NextGenPSD2 interface. `account_id` names an account for the protocol from the
    bank's resource id; `observe` (tests) sees every call as the OpenAPI file would."""

    def __init__(self, settings: ConnectorSettings, base_url: str, *, account_id: Callable[[str, str], str],
                 now: Callable[[], datetime], trusted_key: str | None = None, reports_bank_user: bool = False,
                 observe: Callable[[Exchange], None] | None = None, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self._base_path = urlsplit(self.base_url).path
        self._account_id = account_id
        self._now = now
        self._trusted_key = trusted_key
        self._reports_bank_user = reports_bank_user
        self.observe = observe
        self._signer = RequestSigner.from_files(settings.signing.key, settings.signing.cert) if settings.signing else None
        self._own_ipv4: str | None = None
        verify: ssl.SSLContext | bool = True
        if settings.ca_bundle or settings.client_cert:
            verify = ssl.create_default_context(cafile=str(settings.ca_bundle) if settings.ca_bundle else None)
            if settings.client_cert and settings.client_key:
                verify.load_cert_chain(settings.client_cert, settings.client_key)
        self._client = httpx2.AsyncClient(
            timeout=httpx2.Timeout(settings.timeout_seconds), trust_env=False,
            transport=transport or bank_transport(verify),
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    # --- one call -------------------------------------------------------------------------

    def _server_ipv4(self) -> str:
        """The address this server reaches the bank from (no packet is sent to learn it)."""
        if self._own_ipv4 is None:
            host = urlsplit(self.base_url).hostname or "127.0.0.1"
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
                    probe.connect((host if host != "localhost" else "127.0.0.1", 9))
                    self._own_ipv4 = probe.getsockname()[0]
            except OSError:
                self._own_ipv4 = "127.0.0.1"
        return self._own_ipv4

    async def _call(self, method: str, target: str, *, consent_id: str | None = None, customer: Customer | None = None,
                    body: Any = None, params: dict[str, str] | None = None, headers: dict[str, str] | None = None,
                    trusted: bool = False) -> httpx2.Response:
        sent = {"X-Request-ID": str(uuid.uuid4()), "Accept": "application/json", **(headers or {})}
        if consent_id is not None:
            sent["Consent-ID"] = consent_id
        if customer is not None:
            address = psu_ip_address(customer.ip_address, self._server_ipv4)
            if address:
                sent["PSU-IP-Address"] = address
            if customer.user_agent:
                sent["PSU-User-Agent"] = customer.user_agent[:300]
            if self.settings.psu_id_required and customer.bank_user:
                sent["PSU-ID"] = customer.bank_user
        if trusted and self._trusted_key:
            sent["Authorization"] = f"Bearer {self._trusted_key}"
        content = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        if body is not None:
            sent["Content-Type"] = "application/json"
        if self._signer is not None and not trusted:
            sent.update(self._signer.sign(sent, content))
        url = target if target.startswith(("https://", "http://")) else self.base_url + target
        try:
            response = await self._client.request(method, url, content=content or None, headers=sent, params=params)
        except httpx2.TimeoutException:
            raise BankUnavailable(f"{method} {target}: the bank did not answer in {self.settings.timeout_seconds:g} s")
        except httpx2.HTTPError as exc:
            raise BankUnavailable(f"{method} {target}: {type(exc).__name__}")
        if self.observe is not None and not trusted:
            self._show(method, url, sent, content, response)
        return response

    def _show(self, method: str, url: str, sent: dict[str, str], content: bytes, response: httpx2.Response) -> None:
        parts = urlsplit(str(response.request.url))
        path = parts.path[len(self._base_path):] if parts.path.startswith(self._base_path) else parts.path
        query: dict[str, Any] = {}
        for key, value in response.request.url.params.multi_items():
            query.setdefault(key, []).append(value)
        self.observe(Exchange(  # type: ignore[misc]
            method=method, path=path, query={k: v[0] if len(v) == 1 else v for k, v in query.items()}, headers=sent,
            body=content or None, status=response.status_code, response_headers=dict(response.headers),
            response_body=response.content,
        ))

    async def _refusal(self, response: httpx2.Response, consent_id: str | None) -> Exception:
        """What a non-2xx answer means for us."""
        codes = _error_codes(response)
        if response.status_code == 429:
            return BankRateLimited(_retry_after(response) or _seconds_to_midnight(self._now()))
        if consent_id is not None and response.status_code in (401, 403) and codes & _CONSENT_ERRORS:
            return ConsentEnded(await self._ended_how(consent_id, codes))
        if response.status_code == 404 or "RESOURCE_UNKNOWN" in codes:
            return AccountUnknown(",".join(sorted(codes)) or "404")
        return BankUnavailable(f"the bank answered {response.status_code} {','.join(sorted(codes))}".strip(),
                               _retry_after(response))

    async def _ended_how(self, consent_id: str, codes: set[str]) -> str:
        if "CONSENT_EXPIRED" in codes:
            return "expired"
        try:
            status = await self._status(consent_id, None)
        except BankUnavailable:
            return "revoked"
        return "expired" if status == "expired" else "revoked"

    async def _json(self, method: str, target: str, *, expect: int = 200, consent_id: str | None = None,
                    **options: Any) -> tuple[dict[str, Any], httpx2.Response]:
        response = await self._call(method, target, consent_id=consent_id, **options)
        if response.status_code != expect:
            raise await self._refusal(response, consent_id)
        try:
            body = response.json()
        except ValueError:
            raise BankUnavailable(f"{method} {target}: the bank's answer is not JSON")
        if not isinstance(body, dict):
            raise BankUnavailable(f"{method} {target}: the bank's answer is not an object")
        return body, response

    # --- the consent ----------------------------------------------------------------------

    async def start(self, bank: Bank, ask: ConsentAsk) -> Started:
        body = {
            "access": mapping.consent_access(ask.resources),
            "recurringIndicator": True,
            "validUntil": ask.valid_until.isoformat(),
            "frequencyPerDay": self.settings.frequency_per_day,
            "combinedServiceIndicator": False,
        }
        headers = {"TPP-Redirect-Preferred": "true", "TPP-Redirect-URI": ask.return_url,
                   "TPP-Nok-Redirect-URI": ask.return_url,
                   "TPP-Brand-Logging-Information": quote(ask.app_name, safe=" ")}
        answer, _ = await self._json("POST", "/v1/consents", expect=201, customer=ask.customer, body=body, headers=headers)
        try:
            consent_id = str(answer["consentId"])
            redirect = str(answer["_links"]["scaRedirect"]["href"])
        except (KeyError, TypeError):
            raise BankUnavailable("the bank offered no redirect for the customer's authorisation")
        if not redirect.startswith(("https://", "http://")):
            redirect = self._absolute(redirect)
        return Started(redirect, json.dumps({"consent_id": consent_id}))

    def _absolute(self, href: str) -> str:
        """Absolute links are followed as given; a path from the API root is read against base_url."""
        if href.startswith(("https://", "http://")):
            return href
        if href.startswith("/v1/"):
            return self.base_url + href
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}{href if href.startswith('/') else '/' + href}"

    async def _status(self, consent_id: str, customer: Customer | None) -> str:
        answer, _ = await self._json("GET", f"/v1/consents/{quote(consent_id, safe='')}/status", customer=customer)
        return str(answer.get("consentStatus", ""))

    async def finish(self, bank: Bank, handle: str, customer: Customer) -> Finished:
        consent_id = json.loads(handle)["consent_id"]
        if await self._status(consent_id, customer) in _DENIED:
            return Finished("denied")
        (info, response), listed = await _at_once(
            self._json("GET", f"/v1/consents/{quote(consent_id, safe='')}", customer=customer),
            self._listed(bank, consent_id, customer),
        )
        bank_user = response.headers.get("sandbox-psu-id") if self._reports_bank_user else customer.bank_user
        covered = mapping.covered_references(info.get("access") or {})
        chosen = [(raw, card) for raw, card in listed if not covered or mapping.reference_of(raw) in covered]
        if not chosen:
            return Finished("denied")
        return Finished("granted", self._consent(bank, consent_id, chosen, bank_user))

    def _consent(self, bank: Bank, consent_id: str, chosen: list[tuple[dict[str, Any], bool]],
                 bank_user: str | None) -> Consent:
        held: dict[str, _Held] = {}
        accounts = []
        for raw, card in chosen:
            resource_id = str(raw.get("resourceId") or mapping.reference_of(raw))
            our_id = self._account_id(bank.id, ("card:" if card else "") + resource_id)
            held[our_id] = _Held(card, resource_id, _reference(raw))
            accounts.append(self._account(bank, raw, our_id, card))
        credentials = _Credentials(consent_id, held, bank_user)
        return Consent(tuple(accounts), credentials.dumps(), bank_user)

    def _account(self, bank: Bank, raw: dict[str, Any], our_id: str, card: bool) -> Account:
        return mapping.account(raw, our_id=our_id, bank_id=bank.id, bank_bic=bank.bic, card=card,
                               with_details=bank.supports_account_details_api)

    async def _listed(self, bank: Bank, consent_id: str, customer: Customer | None) -> list[tuple[dict[str, Any], bool]]:
        """Every account and card account the consent lets us list."""
        (answer, _), response = await _at_once(
            self._json("GET", "/v1/accounts", consent_id=consent_id, customer=customer),
            self._call("GET", "/v1/card-accounts", consent_id=consent_id, customer=customer),
        )
        found = [(raw, False) for raw in answer.get("accounts") or []]
        if response.status_code == 200:
            found += [(raw, True) for raw in response.json().get("cardAccounts") or []]
        elif response.status_code not in (400, 404, 405):  # a bank without card accounts may say so any of these ways
            raise await self._refusal(response, consent_id)
        return found

    async def end(self, bank: Bank, credentials: str) -> None:
        consent_id = _Credentials.loads(credentials).consent_id
        response = await self._call("DELETE", f"/v1/consents/{quote(consent_id, safe='')}")
        if response.status_code in (200, 204):
            return
        codes = _error_codes(response)
        if response.status_code in (401, 403, 404) and (codes & _CONSENT_ERRORS or response.status_code == 404):
            return  # already gone at the bank: what ending it wanted
        raise BankUnavailable(f"the bank answered {response.status_code} to ending a consent", _retry_after(response))

    # --- reads ----------------------------------------------------------------------------

    async def accounts(self, bank: Bank, credentials: str) -> list[Account]:
        held = _Credentials.loads(credentials)
        listed = await self._listed(bank, held.consent_id, None)
        by_resource = {("card:" if card else "") + str(raw.get("resourceId")): (raw, card) for raw, card in listed}
        found = []
        for our_id, account in held.accounts.items():
            entry = by_resource.get(("card:" if account.card else "") + account.resource_id)
            if entry is not None:
                found.append(self._account(bank, entry[0], our_id, entry[1]))
        return found

    def _path(self, account: _Held, tail: str = "") -> str:
        kind = "card-accounts" if account.card else "accounts"
        return f"/v1/{kind}/{quote(account.resource_id, safe='')}{tail}"

    async def balance(self, bank: Bank, credentials: str, account_id: str) -> Balance:
        held = _Credentials.loads(credentials)
        answer, _ = await self._json("GET", self._path(held.held(account_id), "/balances"), consent_id=held.consent_id)
        try:
            return mapping.balance(answer, account_id, self._now())
        except (ValueError, KeyError) as exc:
            raise BankUnavailable(f"balances: {exc}")

    async def _report(self, held: _Credentials, account: _Held, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every page of an account report, following `_links.next`."""
        pages = []
        target, query = self._path(account, "/transactions"), params
        for _ in range(MAX_PAGES):
            answer, _ = await self._json("GET", target, consent_id=held.consent_id, params=query)
            report = answer.get("transactions") or answer.get("cardTransactions") or {}
            pages.append(report)
            following = ((report.get("_links") or {}).get("next") or {}).get("href")
            if not following:
                break
            target, query = self._absolute(following), None
        return pages

    async def transactions(self, bank: Bank, credentials: str, account_id: str, date_from: date,
                           date_to: date | None) -> list[Transaction]:
        held = _Credentials.loads(credentials)
        params = {"bookingStatus": "both", "dateFrom": date_from.isoformat()}
        if date_to is not None:
            params["dateTo"] = date_to.isoformat()
        today = self._now().date()
        try:
            pages = await self._report(held, held.held(account_id), params)
            return mapping.newest_first(t for page in pages for t in mapping.transaction_page(page, today))
        except (ValueError, KeyError) as exc:
            raise BankUnavailable(f"transactions: {exc}")

    async def transaction(self, bank: Bank, credentials: str, account_id: str, transaction_id: str) -> Transaction:
        held = _Credentials.loads(credentials)
        account = held.held(account_id)
        bank_tx = mapping.bank_transaction_id(transaction_id)
        if bank_tx is None or account.card:  # card accounts have no single-transaction call
            raise AccountUnknown(transaction_id)
        answer, _ = await self._json("GET", self._path(account, f"/transactions/{quote(bank_tx, safe='')}"),
                                     consent_id=held.consent_id)
        raw = answer.get("transactionsDetails") or answer.get("transactionDetails")
        if not isinstance(raw, dict):
            raise BankUnavailable("the bank's transaction answer has no details")
        try:
            found = mapping.transaction(raw, "BOOKED" if raw.get("bookingDate") else "PENDING", self._now().date())
        except (ValueError, KeyError) as exc:
            raise BankUnavailable(f"transaction: {exc}")
        return Transaction(transaction_id, found.type, found.status, found.amount, found.description, found.booked_at)

    async def standing_orders(self, bank: Bank, credentials: str, account_id: str) -> list[StandingOrder]:
        held = _Credentials.loads(credentials)
        account = held.held(account_id)
        if account.card:
            return []
        today = self._now().date()
        pages = await self._report(held, account, {"bookingStatus": "information",
                                                   "dateFrom": (today - timedelta(days=1)).isoformat()})
        orders = [mapping.standing_order(raw, today) for page in pages for raw in page.get("information") or []]
        return [o for o in orders if o is not None]

    async def transfer_destinations(self, bank: Bank, credentials: str, account_id: str) -> list[TransferDestination]:
        held = _Credentials.loads(credentials)
        account = held.held(account_id)
        response = await self._call("GET", "/v1/trusted-beneficiaries", consent_id=held.consent_id,
                                    params={"account-id": account.resource_id})
        if response.status_code in (400, 404, 405) and not _error_codes(response) & _CONSENT_ERRORS:
            return []  # the bank does not offer the extension
        if response.status_code != 200:
            raise await self._refusal(response, held.consent_id)
        return mapping.transfer_destinations(response.json())

    async def funds_available(self, bank: Bank, credentials: str, account_id: str, amount: Money) -> bool:
        held = _Credentials.loads(credentials)
        account = held.held(account_id)
        body = {"account": {**account.reference}, "instructedAmount": {"currency": amount.currency,
                                                                       "amount": f"{amount.value:.2f}"}}
        answer, _ = await self._json("POST", "/v1/funds-confirmations", consent_id=held.consent_id, body=body)
        available = answer.get("fundsAvailable")
        if not isinstance(available, bool):
            raise BankUnavailable("the bank's funds confirmation has no answer")
        return available

    async def probe(self) -> str:
        """Prove the URL, the TLS set-up and the certificates work, without touching any consent: a
        status call for a consent that does not exist answers the bank's own refusal."""
        response = await self._call("GET", f"/v1/consents/probe-{uuid.uuid4()}/status")
        if response.status_code >= 500:
            raise BankUnavailable(f"the bank answered {response.status_code}")
        return f"answered {response.status_code} {','.join(sorted(_error_codes(response)))}".strip()

    # --- the trusted capability (banks that deploy this server for their own customers) ---

    def _trusted_path(self, tail: str) -> str:
        return self.base_url + "/trusted" + tail

    async def trusted_accounts(self, bank: Bank, bank_user: str) -> list[Account]:
        if self._trusted_key is None:
            raise BankUnavailable("this bank offers no trusted access")
        answer, _ = await self._json("GET", self._trusted_path(f"/psus/{quote(bank_user, safe='')}/accounts"), trusted=True)
        listed = [(raw, False) for raw in answer.get("accounts") or []] + \
                 [(raw, True) for raw in answer.get("cardAccounts") or []]
        return [self._account(bank, raw, self._account_id(bank.id, ("card:" if card else "") + str(raw.get("resourceId"))), card)
                for raw, card in listed]

    async def trusted_grant(self, bank: Bank, bank_user: str, account_ids: tuple[str, ...],
                            resources: tuple[str, ...], valid_until: date) -> Consent:
        if self._trusted_key is None:
            raise BankUnavailable("this bank offers no trusted access")
        answer, _ = await self._json("GET", self._trusted_path(f"/psus/{quote(bank_user, safe='')}/accounts"), trusted=True)
        listed = [(raw, False) for raw in answer.get("accounts") or []] + \
                 [(raw, True) for raw in answer.get("cardAccounts") or []]
        chosen = [(raw, card) for raw, card in listed
                  if self._account_id(bank.id, ("card:" if card else "") + str(raw.get("resourceId"))) in account_ids]
        if not chosen:
            raise AccountUnknown("none of the accounts chosen are the customer's")
        body = {"psuId": bank_user, "access": mapping.consent_access(resources),
                "accounts": [str(raw.get("resourceId")) for raw, _ in chosen], "validUntil": valid_until.isoformat(),
                "frequencyPerDay": self.settings.frequency_per_day, "recurringIndicator": True}
        granted, _ = await self._json("POST", self._trusted_path("/consents"), expect=201, body=body, trusted=True)
        return self._consent(bank, str(granted["consentId"]), chosen, bank_user)



def own_base_url(base_url: str, bank_id: str) -> str:
    """Where this server's own sandbox bank serves one bank."""
    return f"{base_url.rstrip('/')}/sandbox-bank/{quote(bank_id, safe='')}"
