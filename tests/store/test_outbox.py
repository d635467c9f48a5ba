"""The outbox wakes this instance's worker when it promises work due now, and only then: a
request's expiry (due in 20 minutes) or a token's notices (days ahead) wait for the worker's poll
instead of costing a pass over the outbox on every flow."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from webview_bridge.store import outbox
from webview_bridge.worker import Worker

from tests.support.aio import run


def test_only_work_due_now_wakes_the_worker(app, clock):
    runtime = app.state.runtime
    worker = Worker(runtime)

    async def woken_by(due_in: timedelta | None) -> bool:
        worker._wake.clear()
        with runtime.db.write() as conn:
            due = None if due_in is None else clock.now() + due_in
            outbox.enqueue(conn, clock, "test.topic", {"n": 1}, due_at=due)
        await asyncio.sleep(0)  # lets the loop run what the commit scheduled
        return worker._wake.is_set()

    async def scenario() -> tuple[bool, bool, bool]:
        worker.start()
        await asyncio.sleep(0)
        try:
            return await woken_by(None), await woken_by(timedelta(0)), await woken_by(timedelta(minutes=20))
        finally:
            await worker.stop()

    now, due_now, later = run(scenario())
    assert now and due_now
    assert not later
