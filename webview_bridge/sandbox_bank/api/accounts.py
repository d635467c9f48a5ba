"""AIS account data: /v1/accounts… and /v1/card-accounts… (list, details, balances, transactions,
transaction details). Card accounts are served only under /v1/card-accounts, payment accounts
only under /v1/accounts, each with the file's own shapes; the rules are shared."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timezone
from typing import Any

from starlette.responses import JSONResponse, Response

from webview_bridge.sandbox_bank import data, paging
from webview_bridge.sandbox_bank.api import shapes
from webview_bridge.sandbox_bank.api.access import count_call, granted_account, granted_accounts, valid_consent
from webview_bridge.sandbox_bank.api.http import Call
from webview_bridge.sandbox_bank.consents import covers, require_service
from webview_bridge.sandbox_bank.data import BankAccount
from webview_bridge.sandbox_bank.errors import Refusal

Endpoint = Callable[[Call], Awaitable[Response]]
BOOKING_STATUSES = {False: ("booked", "pending", "both", "information", "all"), True: ("booked", "pending", "both")}
AS_OF = "asOf"  # pins a report's moment in its page links, so paging never sees a transaction appear mid-way


def _root(cards: bool) -> str:
    return "/v1/card-accounts" if cards else "/v1/accounts"


def _flag(call: Call, name: str) -> bool:
    value = call.query(name)
    if value in (None, "false"):
        return False
    if value == "true":
        return True
    raise Refusal("FORMAT_ERROR", f"{name} must be true or false", name)


def _date(call: Call, name: str) -> date | None:
    value = call.query(name)
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Refusal("FORMAT_ERROR", f"{name} must be a date (YYYY-MM-DD)", name) from None


def _whole(call: Call, name: str, default: int, low: int) -> int:
    value = call.query(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) < low:
        raise Refusal("FORMAT_ERROR", f"{name} must be a whole number of at least {low}", name)
    return int(value)


def _details_offered(call: Call) -> None:
    if not call.bank.supports_account_details_api:
        raise Refusal("SERVICE_INVALID", f"{call.bank.name} does not offer account details; use the account list")


def _balances_offered(call: Call) -> None:
    if not call.bank.supports_balance:
        raise Refusal("SERVICE_INVALID", f"{call.bank.name} does not offer balances")


def _describe(call: Call, account: BankAccount, access: dict[str, Any], with_balance: bool) -> dict[str, Any]:
    links = shapes.account_links(account, call.link, balances=covers(access, "balances"),
                                 transactions=covers(access, "transactions"))
    balances = None
    if with_balance and covers(access, "balances") and call.bank.supports_balance:
        balances = shapes.balance_list(account, data.balances(account, call.now), call.now)
    describe = shapes.card_account_details if account.is_card else shapes.account_details
    return describe(account, full=call.bank.supports_account_details_api, owner=covers(access, "ownerName"),
                    links=links, balances=balances)


def account_list(cards: bool) -> Endpoint:
    async def endpoint(call: Call) -> Response:
        consent = await valid_consent(call)
        require_service(consent.access, "accounts")
        with_balance = _flag(call, "withBalance")
        await count_call(call, consent, _root(cards))
        found = [_describe(call, a, consent.access, with_balance) for a in granted_accounts(call, consent, cards=cards)]
        return JSONResponse({"cardAccounts" if cards else "accounts": found})

    return endpoint


def account_details(cards: bool) -> Endpoint:
    async def endpoint(call: Call) -> Response:
        _details_offered(call)
        consent = await valid_consent(call)
        account = granted_account(call, consent, call.request.path_params["account_id"], cards=cards, service="accounts")
        with_balance = False if cards else _flag(call, "withBalance")  # the card endpoint has no withBalance
        await count_call(call, consent, _root(cards) + "/{account-id}", account.resource_id)
        return JSONResponse({"cardAccount" if cards else "account": _describe(call, account, consent.access, with_balance)})

    return endpoint


def balances(cards: bool) -> Endpoint:
    async def endpoint(call: Call) -> Response:
        _balances_offered(call)
        consent = await valid_consent(call)
        account = granted_account(call, consent, call.request.path_params["account_id"], cards=cards, service="balances")
        await count_call(call, consent, _root(cards) + "/{account-id}/balances", account.resource_id)
        found = shapes.balance_list(account, data.balances(account, call.now), call.now)
        if cards:
            return JSONResponse({"cardAccount": account.reference(), "debitAccounting": False, "balances": found})
        return JSONResponse({"account": account.reference(), "balances": found})

    return endpoint


def transactions(cards: bool) -> Endpoint:
    async def endpoint(call: Call) -> Response:
        consent = await valid_consent(call)
        account = granted_account(call, consent, call.request.path_params["account_id"], cards=cards,
                                  service="transactions")
        report = _report_query(call, account, cards)
        page_index = _whole(call, "pageIndex", 0, 0)
        size = min(_whole(call, "itemsPerPage", call.config.page_size, 1), call.config.page_size)
        await count_call(call, consent, _root(cards) + "/{account-id}/transactions", account.resource_id, page_index)
        page = paging.page_of(_report_parts(call, account, report), page_index, size)
        if cards:
            entries: dict[str, Any] = {name: [shapes.card_transaction(account, e, name == "booked") for e in items]
                                       for name, items in page.parts.items()}
            entries["_links"] = _page_links(call, account, report, page, size, "cardAccount")
            body: dict[str, Any] = {"cardAccount": account.reference(), "debitAccounting": False, "cardTransactions": entries}
        else:
            entries = {name: [shapes.standing_order(e) if name == "information"
                              else shapes.transaction(account, e, name == "booked", call.link) for e in items]
                       for name, items in page.parts.items()}
            entries["_links"] = _page_links(call, account, report, page, size, "account")
            body = {"account": account.reference(), "transactions": entries}
        if _flag(call, "withBalance") and covers(consent.access, "balances") and call.bank.supports_balance:
            body["balances"] = shapes.balance_list(account, data.balances(account, report["as_of"]), report["as_of"])
        return JSONResponse(body)

    return endpoint


def _report_query(call: Call, account: BankAccount, cards: bool) -> dict[str, Any]:
    """The report's parameters, checked; what a page link must carry to continue the same report."""
    booking_status = call.query("bookingStatus")
    if booking_status not in BOOKING_STATUSES[cards]:
        raise Refusal("FORMAT_ERROR", "bookingStatus must be one of " + ", ".join(BOOKING_STATUSES[cards]), "bookingStatus")
    if booking_status in ("information", "all") and not call.bank.supports_standing_order:
        raise Refusal("PARAMETER_NOT_SUPPORTED", f"{call.bank.name} does not report standing orders", "bookingStatus")
    if _flag(call, "deltaList"):
        raise Refusal("PARAMETER_NOT_SUPPORTED", "this bank offers no delta reports; use entryReferenceFrom", "deltaList")
    as_of = _as_of(call)
    after = None
    reference = call.query("entryReferenceFrom")
    if reference is not None:
        found = data.find_entry(account, reference, as_of)
        if found is None:
            raise Refusal("RESOURCE_UNKNOWN", "no transaction with that entryReference on this account",
                          "entryReferenceFrom", in_payload=True)
        after = found[0]
    date_from, date_to = _date(call, "dateFrom"), _date(call, "dateTo")
    if date_from is None and after is None and booking_status != "information":
        raise Refusal("FORMAT_ERROR", "dateFrom is required (unless bookingStatus is information or entryReferenceFrom is given)",
                      "dateFrom")
    if date_from and date_to and date_from > date_to:
        raise Refusal("PERIOD_INVALID", "dateFrom is after dateTo", "dateFrom")
    return {"bookingStatus": booking_status, "dateFrom": date_from, "dateTo": date_to or as_of.date(),
            "entryReferenceFrom": reference, "after": after, "as_of": as_of}


def _as_of(call: Call) -> datetime:
    """Now, or the moment a report's first page was made (never later than now)."""
    value = call.query(AS_OF)
    if value is None:
        return call.now
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Refusal("FORMAT_ERROR", f"{AS_OF} is not a moment this bank gave out", AS_OF) from None
    if moment.tzinfo is None:
        raise Refusal("FORMAT_ERROR", f"{AS_OF} is not a moment this bank gave out", AS_OF)
    return min(moment.astimezone(timezone.utc), call.now)


def _report_parts(call: Call, account: BankAccount, report: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    status = report["bookingStatus"]
    parts: list[tuple[str, list[Any]]] = []
    if status != "information":
        # A bank that cannot filter by date answers its whole history; the TPP filters (PROTOCOL §4's flag).
        filtered = call.bank.supports_transactions_date_filter and report["after"] is None
        pending, booked = data.history(account, report["as_of"], report["dateFrom"] if filtered else None,
                                       report["dateTo"] if filtered else None)
        if report["after"] is not None:
            mark = (report["after"].at, report["after"].transaction_id)
            pending = [e for e in pending if (e.at, e.transaction_id) > mark]
            booked = [e for e in booked if (e.at, e.transaction_id) > mark]
        if status in ("pending", "both", "all"):
            parts.append(("pending", pending))
        if status in ("booked", "both", "all"):
            parts.append(("booked", booked))
    if status in ("information", "all"):
        parts.append(("information", data.standing_orders(account)))
    return parts


def _page_links(call: Call, account: BankAccount, report: dict[str, Any], page: paging.Page, size: int,
                account_link: str) -> dict[str, Any]:
    path = shapes.resource_path(account)
    query = {"bookingStatus": report["bookingStatus"]}
    if report["entryReferenceFrom"] is not None:
        query["entryReferenceFrom"] = report["entryReferenceFrom"]
    else:
        if report["dateFrom"] is not None:
            query["dateFrom"] = report["dateFrom"].isoformat()
        query["dateTo"] = report["dateTo"].isoformat()
    if size != call.config.page_size:
        query["itemsPerPage"] = str(size)
    query[AS_OF] = report["as_of"].astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")

    def at(index: int) -> dict[str, str]:
        return {"href": call.link(f"{path}/transactions", {**query, "pageIndex": str(index)})}

    links: dict[str, Any] = {account_link: {"href": call.link(path)}, "first": at(0), "last": at(page.count - 1)}
    if page.has_previous:
        links["previous"] = at(page.index - 1)
    if page.has_next:
        links["next"] = at(page.index + 1)
    return links


async def transaction_details(call: Call) -> Response:
    consent = await valid_consent(call)
    account = granted_account(call, consent, call.request.path_params["account_id"], cards=False, service="transactions")
    found = data.find_entry(account, call.request.path_params["transaction_id"], call.now)
    if found is None:
        raise Refusal("RESOURCE_UNKNOWN", "no such transaction on this account", "transactionId")
    await count_call(call, consent, "/v1/accounts/{account-id}/transactions/{transactionId}", account.resource_id)
    entry, booked = found
    # The file's 200 answer names the object transactionsDetails (see spec/README.md).
    return JSONResponse({"transactionsDetails": shapes.transaction(account, entry, booked, call.link)})
