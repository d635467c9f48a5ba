"""What a rule says when it refuses: a protocol error code, a message and the field to blame.

These errors know no HTTP. The edge (webview_bridge/errors.py) maps each kind to its status in
one table, so a rule never decides how its refusal travels.
"""

from __future__ import annotations


class Refused(Exception):
    """A rule refused. Subclasses say what kind of refusal it is."""

    def __init__(self, code: str, message: str, field: str | None = None, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.retry_after = retry_after


class Invalid(Refused):
    """The input breaks a rule; nothing changed."""


class NotAllowed(Refused):
    """The caller is known but may not do this."""


class NotFound(Refused):
    """No such object for this caller (another owner's object is not found, never forbidden)."""


class Conflict(Refused):
    """The object's state does not allow it (already decided, a mismatch)."""


class Gone(Refused):
    """It existed and has expired."""


class Unavailable(Refused):
    """Someone we depend on (a bank) cannot answer now; try again later."""


class Throttled(Refused):
    """Too many calls; wait `retry_after` seconds."""
