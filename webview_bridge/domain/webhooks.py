"""Webhooks and events (PROTOCOL §12): which events exist, which URLs may receive them, and when
an endpoint that keeps failing is switched off."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from webview_bridge.domain.apps import validate_redirect_url
from webview_bridge.domain.errors import Invalid

EVENT_TYPES = (
    "token_request.processed", "token_request.rejected", "token_request.expired",
    "token.expiring", "token.expired", "token.cancelled", "bank.status_changed",
)
# An endpoint failing this long is disabled and gets nothing until the app turns it back on.
DISABLE_AFTER = timedelta(hours=24)
# What GET /events still lists.
EVENT_RETENTION = timedelta(days=30)
# token.expiring is told this long before a token's end.
EXPIRY_NOTICES = (timedelta(days=7), timedelta(days=1))
DELIVERY_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Event:
    id: str
    app_id: str
    type: str
    data: dict[str, Any]
    created_at: datetime

    def body(self, rfc3339: Any) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "created_at": rfc3339(self.created_at), "data": self.data}


@dataclass(frozen=True)
class Webhook:
    id: str
    app_id: str
    url: str
    events: tuple[str, ...] | None  # None: every type
    status: str  # active | disabled
    created_at: datetime
    failing_since: datetime | None
    last_error: str | None
    disabled_reason: str | None

    def wants(self, event_type: str) -> bool:
        return self.status == "active" and (self.events is None or event_type in self.events)


def check_url(url: str) -> str:
    """A redirect URL's rules (PROTOCOL §2), but https: plain http only to this machine."""
    try:
        validate_redirect_url(url)
    except ValueError as problem:
        raise Invalid("invalid_url", str(problem).replace("redirect URL", "webhook URL"), "url")
    if urlsplit(url).scheme not in ("https", "http"):
        raise Invalid("invalid_url", "a webhook URL must be https (http only to 127.0.0.1, [::1] or localhost)", "url")
    return url


def check_event_types(wanted: Sequence[str] | None) -> tuple[str, ...] | None:
    if wanted is None:
        return None
    if not wanted:
        raise Invalid("invalid_value", "events must name at least one event type, or be left out for all", "events")
    for index, name in enumerate(wanted):
        if name not in EVENT_TYPES:
            raise Invalid("unknown_event_type", f"{name!r} is not an event type", f"events[{index}]")
    return tuple(dict.fromkeys(wanted))


def gives_up(failing_since: datetime | None, now: datetime) -> bool:
    """After a day of failures the endpoint is disabled (and its pending deliveries dropped)."""
    return failing_since is not None and now - failing_since >= DISABLE_AFTER


def expiry_notices(expires_at: datetime, now: datetime) -> list[tuple[str, datetime]]:
    """When to tell of a token's coming end and of its end; notices already past are not told."""
    due = [("token.expiring", expires_at - ahead) for ahead in EXPIRY_NOTICES] + [("token.expired", expires_at)]
    return [(kind, at) for kind, at in due if at > now]
