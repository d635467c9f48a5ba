"""POST/GET/PUT/DELETE /webhooks and GET /events (PROTOCOL §12): the TPP hears what happened
instead of polling, and catches up or replays from the list of its events."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from webview_bridge.wire import EventList, EventView, WebhookCreated, WebhookCreatedView, WebhookEnvelope, WebhookList, WebhookView
from webview_bridge.api.auth import owned_by, require_app
from webview_bridge.api.operations import ApiRoute, Operation, StrictModel, json_response, parse_body, parse_query
from webview_bridge.domain.webhooks import EVENT_TYPES, Webhook, check_event_types, check_url
from webview_bridge.errors import ApiError
from webview_bridge.store import events as event_store
from webview_bridge.store import webhooks as store
from webview_bridge.routing import path_for
from webview_bridge.runtime import Runtime

EventType = Literal[EVENT_TYPES]  # type: ignore[valid-type]


class WebhookIn(StrictModel):
    url: str = Field(min_length=1, max_length=2000, description="https; plain http only to 127.0.0.1, [::1] or localhost")
    events: list[str] | None = Field(None, max_length=len(EVENT_TYPES), description="omit for every event type")


class WebhookChange(StrictModel):
    status: Literal["active"] = Field(description="turns a disabled endpoint back on")


class EventsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after: str | None = Field(None, max_length=40, description="an event id; the list starts after it")
    limit: int = Field(100, ge=1, le=100)


def webhook_view(hook: Webhook) -> WebhookView:
    return WebhookView(id=hook.id, url=hook.url, events=list(hook.events) if hook.events is not None else None,
               status=hook.status, created_at=hook.created_at, failing_since=hook.failing_since,
               last_error=hook.last_error, disabled_reason=hook.disabled_reason)


async def create_webhook(request: Request, runtime: Runtime) -> JSONResponse:
    caller = await require_app(request, runtime, "tpp")
    body = await parse_body(request, WebhookIn)
    url, wanted = check_url(body.url), check_event_types(body.events)
    hook, secret = await runtime.db.run(store.create, runtime.db, runtime.keyring, runtime.clock, caller.app.id, url, wanted)
    created = WebhookCreatedView(**webhook_view(hook).model_dump(), secret=secret)
    return json_response(WebhookCreated(webhook=created), status=201, headers={"Location": path_for(request, "webhook", webhook_id=hook.id)})


async def list_webhooks(request: Request, runtime: Runtime) -> JSONResponse:
    caller = await require_app(request, runtime, "tpp")
    hooks = await runtime.db.run(store.listed, runtime.db, caller.app.id)
    return json_response(WebhookList(webhooks=[webhook_view(h) for h in hooks]))


async def _own(request: Request, runtime: Runtime, app_id: str) -> Webhook:
    found = await runtime.db.run(store.get, runtime.db, request.path_params["webhook_id"])
    return owned_by(found, app_id, "webhook", "webhook_not_found")


async def get_webhook(request: Request, runtime: Runtime) -> JSONResponse:
    caller = await require_app(request, runtime, "tpp")
    return json_response(WebhookEnvelope(webhook=webhook_view(await _own(request, runtime, caller.app.id))))


async def change_webhook(request: Request, runtime: Runtime) -> JSONResponse:
    caller = await require_app(request, runtime, "tpp")
    await parse_body(request, WebhookChange)
    hook = await _own(request, runtime, caller.app.id)
    await runtime.db.run(store.reactivate, runtime.db, hook.id)
    return json_response(WebhookEnvelope(webhook=webhook_view(await _own(request, runtime, caller.app.id))))


async def delete_webhook(request: Request, runtime: Runtime) -> Response:
    caller = await require_app(request, runtime, "tpp")
    hook = await _own(request, runtime, caller.app.id)
    await runtime.db.run(store.remove, runtime.db, hook.id)
    return Response(status_code=204)


async def list_events(request: Request, runtime: Runtime) -> JSONResponse:
    caller = await require_app(request, runtime, "tpp")
    query = parse_query(request, EventsQuery)
    found = await runtime.db.run(event_store.listed, runtime.db, runtime.clock, caller.app.id, query.after, query.limit)
    if found is None:
        raise ApiError(400, "unknown_event", "after names none of this app's events", "after")
    return json_response(EventList(events=[EventView(id=e.id, type=e.type, created_at=e.created_at, data=e.data)
                                           for e in found]))


def _op(summary: str, responses: dict, **extra) -> Operation:
    return Operation(summary, auth="tpp", responses=responses, tags=["webhooks"], **extra)


routes = [
    ApiRoute("/webhooks", create_webhook, methods=["POST"], name="create_webhook",
             operation=_op("Register a webhook endpoint (its secret is shown only now)", {201: WebhookCreated}, body=WebhookIn)),
    ApiRoute("/webhooks", list_webhooks, methods=["GET"], name="list_webhooks", operation=_op("The caller's webhook endpoints", {200: WebhookList})),
    ApiRoute("/webhooks/{webhook_id}", get_webhook, methods=["GET"], name="webhook", operation=_op("A webhook endpoint", {200: WebhookEnvelope})),
    ApiRoute("/webhooks/{webhook_id}", change_webhook, methods=["PUT"], name="change_webhook",
             operation=_op("Turn a disabled endpoint back on", {200: WebhookEnvelope}, body=WebhookChange)),
    ApiRoute("/webhooks/{webhook_id}", delete_webhook, methods=["DELETE"], name="delete_webhook", operation=_op("Remove an endpoint", {204: None})),
    ApiRoute("/events", list_events, methods=["GET"], name="list_events",
             operation=_op("The caller's events of the last 30 days, oldest first", {200: EventList}, query=EventsQuery)),
]
