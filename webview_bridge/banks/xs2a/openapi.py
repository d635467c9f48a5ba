"""The official Berlin Group NextGenPSD2 OpenAPI files, and a check of one call against them.

The connector's tests hold every request it sends and every answer it relies on to the file; the
sandbox bank, in its validating mode, holds every request it gets and every answer it gives. Both
describe a call the same way (`Exchange`), so neither depends on the other's HTTP library.

The files are © The Berlin Group, CC-BY-4.0 (see spec/README.md). They declare their servers
(`https://api.testbank.com/psd2`, …); a call is checked as if made there, whatever base URL the bank has.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

SPEC_DIR = Path(__file__).parent / "spec"
XS2A_FILE = SPEC_DIR / "psd2-api_v1.3.11-2021-10-01v1.yaml"
TRUSTED_BENEFICIARIES_FILE = SPEC_DIR / "psd2-trusted_beneficiaries_v1.0.0_20200519v1.yaml"
# Each file's own server entry: a call is checked as if made there.
_SERVERS = {XS2A_FILE: "https://api.testbank.com/psd2", TRUSTED_BENEFICIARIES_FILE: "https://api.tpp.com/psd2"}


class NonConformance(AssertionError):
    """A call that the Berlin Group file does not allow; the message says which part and why."""


class _Headers(Mapping[str, str]):
    """Case-insensitive, as HTTP headers are; openapi-core looks parameters up by their spelt name."""

    def __init__(self, raw: Mapping[str, str]) -> None:
        self._raw = {k.lower(): v for k, v in raw.items()}

    def __getitem__(self, key: str) -> str:
        return self._raw[key.lower()]

    def __iter__(self):
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._raw

    def getall(self, key: str) -> list[str]:  # werkzeug-style, which openapi-core may ask for
        return [self[key]] if key in self else []


@dataclass(frozen=True)
class Exchange:
    """One call as the file sees it: `path` starts at the API root (`/v1/consents`)."""

    method: str
    path: str
    query: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes | None = None
    status: int | None = None
    response_headers: Mapping[str, str] = field(default_factory=dict)
    response_body: bytes | None = None


class _Request:
    def __init__(self, exchange: Exchange) -> None:
        from openapi_core.datatypes import RequestParameters

        self.method = exchange.method.lower()
        server = _SERVERS[_file_for(exchange.path)]
        self.host_url, root = server[: server.index("/", 8)], server[server.index("/", 8):]
        self.path = root + exchange.path
        self.full_url_pattern = self.host_url + self.path
        self.body = exchange.body or None
        headers = _Headers(exchange.headers)
        self.content_type = headers.get("content-type", "application/octet-stream")
        self.parameters = RequestParameters(query=_MultiQuery(exchange.query), header=headers, cookie={})


class _MultiQuery(Mapping[str, Any]):
    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = dict(raw)

    def __getitem__(self, key: str) -> Any:
        return self._raw[key]

    def __iter__(self):
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def getall(self, key: str) -> list[Any]:
        value = self._raw.get(key)
        return [] if value is None else value if isinstance(value, list) else [value]


class _Response:
    def __init__(self, exchange: Exchange) -> None:
        self.status_code = exchange.status or 0
        self.headers = _Headers(exchange.response_headers)
        self.content_type = self.headers.get("content-type", "application/json").lower()
        self.data = exchange.response_body or b""


@cache
def _api(path: Path) -> Any:
    from openapi_core import Config, OpenAPI

    # The file itself validates (checked once in the suite); skipping that here saves seconds per process.
    return OpenAPI.from_file_path(str(path), config=Config(spec_validator_cls=None))


def _file_for(path: str) -> Path:
    return TRUSTED_BENEFICIARIES_FILE if path.startswith("/v1/trusted-beneficiaries") else XS2A_FILE


def _reason(exc: Exception) -> str:
    causes = []
    current: BaseException | None = exc
    while current is not None and len(causes) < 4:
        causes.append(f"{type(current).__name__}: {current}")
        details = getattr(current, "schema_errors", None)
        if details:
            causes.extend(f"  - {getattr(e, 'message', e)}" for e in list(details)[:5])
        current = current.__cause__
    return "\n".join(causes)


def check_request(exchange: Exchange) -> None:
    """Raises NonConformance when the file does not allow this request."""
    try:
        _api(_file_for(exchange.path)).validate_request(_Request(exchange))
    except Exception as exc:  # openapi-core raises a family of its own errors
        raise NonConformance(f"{exchange.method} {exchange.path} request: {_reason(exc)}") from None


def check_response(exchange: Exchange) -> None:
    """Raises NonConformance when the file does not allow this answer to this request."""
    try:
        _api(_file_for(exchange.path)).validate_response(_Request(exchange), _Response(exchange))
    except Exception as exc:
        raise NonConformance(f"{exchange.method} {exchange.path} → {exchange.status}: {_reason(exc)}") from None
