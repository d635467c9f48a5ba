"""The background worker: does what the outbox promised (end a bank's consent, later deliver a
webhook) until it succeeds. It starts with `serve` and stops cleanly with it.

Each task is claimed under a lease (store/outbox.py), so a crash mid-task means it runs again;
failures are retried with exponential backoff, capped at an hour. Work is woken at once when this
instance enqueues something, and looked for every few seconds otherwise (another instance's work,
retries that fell due).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from webview_bridge.banks.model import BankUnavailable
from webview_bridge.runtime import Runtime
from webview_bridge.store import outbox
from webview_bridge.store import tokens as token_store

log = logging.getLogger("webview_bridge.worker")
Handler = Callable[[dict[str, Any]], Awaitable[None]]
POLL_SECONDS = 2.0
RETRY_CAP = timedelta(hours=1)


def backoff(attempts: int, base: timedelta) -> timedelta:
    """base, 2×base, 4×base … capped at an hour."""
    return min(base * (2 ** max(0, attempts - 1)), RETRY_CAP)


class Worker:
    def __init__(self, runtime: Runtime, retry_base: timedelta = timedelta(seconds=30)) -> None:
        self.runtime = runtime
        self.retry_base = retry_base
        self.handlers: dict[str, Handler] = {token_store.END_BANK_CONSENT: self._end_bank_consent}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

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
        self._task = asyncio.get_running_loop().create_task(self._serve(), name="webview-bridge worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # --- handlers -------------------------------------------------------------------------

    async def _end_bank_consent(self, payload: dict[str, Any]) -> None:
        runtime = self.runtime
        token = await runtime.db.run(token_store.get, runtime.db, payload["token_id"])
        if token is None:
            return
        bank = runtime.banks.get(token.bank_id)
        if bank is None:
            raise BankUnavailable(f"{token.bank_id} is no longer in the directory")
        try:
            credentials = await runtime.db.run(token_store.credentials, runtime.db, runtime.keyring, token.id)
        except KeyError:
            return  # it never held a consent at the bank
        await runtime.banks.end(bank, credentials)
        await runtime.db.run(runtime.banks.forget, token.id)
