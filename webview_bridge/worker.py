"""The background worker: does what the outbox promised (end a bank's consent, deliver a webhook,
tell of an expiry when it falls due) until it succeeds. It starts with `serve` and stops cleanly with it.

Each task is claimed under a lease (store/outbox.py), so a crash mid-task means it runs again;
failures are retried with exponential backoff, capped at an hour. Work is woken at once when this
instance enqueues something, and looked for every few seconds otherwise (another instance's work,
retries that fell due).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx2
import sqlalchemy.event
from standardwebhooks.webhooks import Webhook as StandardWebhook

from webview_bridge.banks.model import BankUnavailable
from webview_bridge.clock import rfc3339
from webview_bridge.domain.webhooks import DELIVERY_TIMEOUT_SECONDS, gives_up
from webview_bridge.runtime import Runtime
from webview_bridge.store import events as event_store
from webview_bridge.store import outbox
from webview_bridge.store import token_requests as request_store
from webview_bridge.store import tokens as token_store
from webview_bridge.store import webhooks as webhook_store

log = logging.getLogger("webview_bridge.worker")
Handler = Callable[[dict[str, Any]], Awaitable[None]]
POLL_SECONDS = 2.0
RETRY_CAP = timedelta(hours=1)


def backoff(attempts: int, base: timedelta) -> timedelta:
    """base, 2×base, 4×base … capped at an hour."""
    return min(base * (2 ** max(0, attempts - 1)), RETRY_CAP)


class Worker:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.retry_base = timedelta(seconds=runtime.settings.webhook_retry_base_seconds)
        self.handlers: dict[str, Handler] = {
            token_store.END_BANK_CONSENT: self._end_bank_consent,
            event_store.DELIVER: self._deliver,
            request_store.REQUEST_EXPIRY: self._request_expiry,
            request_store.TOKEN_NOTICE: self._token_notice,
        }
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._http: httpx2.AsyncClient | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run_due(self) -> int:
        """Do every task that is due now; how many were done."""
        runtime = self.runtime
        done = 0
        while True:
            tasks = await runtime.db.run(outbox.claim, runtime.db, runtime.clock)
            if not tasks:
                return done
            for task in tasks:
                handler = self.handlers.get(task.topic)
                try:
                    if handler is None:
                        raise LookupError(f"no handler for {task.topic}")
                    await handler(task.payload)
                except Exception as exc:  # every failure is retried; none stops the worker
                    due = runtime.clock.now() + backoff(task.attempts, self.retry_base)
                    await runtime.db.run(outbox.retry, runtime.db, task.id, due, f"{type(exc).__name__}: {exc}")
                    log.warning("task will be retried", extra={"fields": {
                        "topic": task.topic, "task_id": task.id, "attempts": task.attempts, "error": type(exc).__name__}})
                else:
                    await runtime.db.run(outbox.done, runtime.db, runtime.clock, task.id)
                    done += 1

    async def _serve(self) -> None:
        while True:
            try:
                await self.run_due()
            except Exception:  # the database may be away for a moment; the loop must outlive it
                log.exception("worker pass failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_SECONDS):
                    await self._wake.wait()
            self._wake.clear()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._task = loop.create_task(self._serve(), name="webview-bridge worker")

        def on_commit(conn: Any) -> None:
            # Work this instance just promised is done at once, not at the next poll.
            if conn.info.pop(outbox.ENQUEUED, False):
                loop.call_soon_threadsafe(self._wake.set)

        self._on_commit = on_commit
        sqlalchemy.event.listen(self.runtime.db.engine, "commit", on_commit)

    async def stop(self) -> None:
        if getattr(self, "_on_commit", None) is not None:
            sqlalchemy.event.remove(self.runtime.db.engine, "commit", self._on_commit)
            self._on_commit = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # --- handlers -------------------------------------------------------------------------

    async def _end_bank_consent(self, payload: dict[str, Any]) -> None:
        runtime = self.runtime
        held = await runtime.db.run(token_store.get_sealed, runtime.db, payload["token_id"])
        if held is None:
            return
        token, sealed = held
        bank = runtime.banks.get(token.bank_id)
        if bank is None:
            raise BankUnavailable(f"{token.bank_id} is no longer in the directory")
        try:
            credentials = token_store.open_consent(runtime.keyring, sealed, token.id)
        except KeyError:
            return  # it never held a consent at the bank
        await runtime.banks.end(bank, credentials)
        await runtime.db.run(runtime.banks.forget, token.id)

    async def _request_expiry(self, payload: dict[str, Any]) -> None:
        runtime = self.runtime
        await runtime.db.run(request_store.tell_expiry, runtime.db, runtime.clock, payload["request_id"])

    async def _token_notice(self, payload: dict[str, Any]) -> None:
        runtime = self.runtime
        await runtime.db.run(token_store.tell_notice, runtime.db, runtime.clock, payload["token_id"], payload["kind"])

    async def _deliver(self, payload: dict[str, Any]) -> None:
        """POST one event to one endpoint, signed the Standard Webhooks way; a 2xx within 10 s is
        delivered, anything else is retried — until the endpoint has failed for a day."""
        runtime = self.runtime
        hook = await runtime.db.run(webhook_store.get, runtime.db, payload["webhook_id"])
        event = await runtime.db.run(event_store.get, runtime.db, payload["event_id"])
        if hook is None or hook.status != "active" or event is None:
            return  # removed or disabled meanwhile: nothing to send
        secret = await runtime.db.run(webhook_store.secret, runtime.db, runtime.keyring, hook.id)
        body = json.dumps(event.body(rfc3339), separators=(",", ":"))
        sent_at = datetime.now(timezone.utc)  # the wall clock: receivers judge the timestamp by theirs
        headers = {"Content-Type": "application/json", "Webhook-Id": event.id,
                   "Webhook-Timestamp": str(int(sent_at.timestamp())),
                   "Webhook-Signature": StandardWebhook(secret).sign(event.id, sent_at, body)}
        if self._http is None:
            self._http = httpx2.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS, follow_redirects=False, trust_env=False)
        try:
            answer = await self._http.post(hook.url, content=body.encode(), headers=headers)
            problem = None if 200 <= answer.status_code < 300 else f"the endpoint answered {answer.status_code}"
        except httpx2.HTTPError as exc:
            problem = f"the endpoint could not be reached ({type(exc).__name__})"
        if problem is None:
            await runtime.db.run(webhook_store.delivered, runtime.db, hook.id)
            return
        now = runtime.clock.now()
        since = await runtime.db.run(webhook_store.failed, runtime.db, hook.id, now, problem)
        if gives_up(since, now):
            await runtime.db.run(webhook_store.disable, runtime.db, hook.id, f"failing since {rfc3339(since)}: {problem}")
            return
        raise DeliveryFailed(problem)


class DeliveryFailed(Exception):
    pass
