"""The one refusal the sandbox bank's rules raise. It carries a Berlin Group message code;
api/errors.py maps each code to its HTTP status in one table at the edge."""

from __future__ import annotations


class Refusal(Exception):
    """A request the bank will not serve. `path` names the offending field or header, as
    tppMessages' `path` does; `in_payload` marks a bad reference inside the request body or
    query, which Berlin Group answers 400 rather than 403/404."""

    def __init__(self, code: str, text: str, path: str | None = None, *, in_payload: bool = False,
                 retry_after: int | None = None) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.path = path
        self.in_payload = in_payload
        self.retry_after = retry_after  # seconds, when waiting helps
