"""BridgeClient and AsyncBridgeClient: the TPP's backend talking to webview-bridge.

They fetch and refresh backend access tokens by themselves (one at a time, so a refresh token
is never spent twice — the server would revoke the whole family), retry once on a 401, and
raise BridgeError for every failure, with the protocol's error code.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, TypeVar

import httpx2

from webview_bridge.tpp._core import BridgeError, Call, Operations, TokenKeeper, read_answer, transport_error

T = TypeVar("T")
DEFAULT_TIMEOUT = httpx2.Timeout(10.0, connect=5.0)


class BridgeClient(Operations):
    def __init__(self, base_url: str, app_id: str, app_secret: str, *, timeout: float | httpx2.Timeout = DEFAULT_TIMEOUT,
                 transport: httpx2.BaseTransport | None = None) -> None:
        self._http = httpx2.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        self._tokens = TokenKeeper(app_id, app_secret)
        self._lock = threading.Lock()

    def __enter__(self) -> BridgeClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return self._http.send(request)
        except httpx2.HTTPError as exc:
            raise transport_error(exc) from exc

    def _access_token(self, stale: str | None = None) -> str:
        with self._lock:
            if self._tokens.fresh() and self._tokens.access_token != stale:
                return self._tokens.access_token  # type: ignore[return-value]
            while not self._tokens.take(self._send(self._tokens.token_request(self._http))):
                pass
            return self._tokens.access_token  # type: ignore[return-value]

    def _run(self, call: Call[T]) -> T:
        token = self._access_token() if call.auth else None
        for attempt in (1, 2):
            headers = dict(call.headers or {})
            if token:
                headers["Authorization"] = f"Bearer {token}"
            response = self._send(self._http.build_request(call.method, call.path, params=call.params, json=call.json,
                                                           headers=headers))
            if response.status_code == 401 and call.auth and attempt == 1:
                token = self._access_token(stale=token)
                continue
            return read_answer(response, call.read)
        raise AssertionError("unreachable")


class AsyncBridgeClient(Operations):
    """The same calls as BridgeClient, awaited: `await client.get_accounts(token_id)`."""

    def __init__(self, base_url: str, app_id: str, app_secret: str, *, timeout: float | httpx2.Timeout = DEFAULT_TIMEOUT,
                 transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self._http = httpx2.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
        self._tokens = TokenKeeper(app_id, app_secret)
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> AsyncBridgeClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _send(self, request: httpx2.Request) -> httpx2.Response:
        try:
            return await self._http.send(request)
        except httpx2.HTTPError as exc:
            raise transport_error(exc) from exc

    async def _access_token(self, stale: str | None = None) -> str:
        async with self._lock:
            if self._tokens.fresh() and self._tokens.access_token != stale:
                return self._tokens.access_token  # type: ignore[return-value]
            while not self._tokens.take(await self._send(self._tokens.token_request(self._http))):
                pass
            return self._tokens.access_token  # type: ignore[return-value]

    async def _run_async(self, call: Call[T]) -> T:
        token = await self._access_token() if call.auth else None
        for attempt in (1, 2):
            headers = dict(call.headers or {})
            if token:
                headers["Authorization"] = f"Bearer {token}"
            response = await self._send(self._http.build_request(call.method, call.path, params=call.params,
                                                                 json=call.json, headers=headers))
            if response.status_code == 401 and call.auth and attempt == 1:
                token = await self._access_token(stale=token)
                continue
            return read_answer(response, call.read)
        raise AssertionError("unreachable")

    def _run(self, call: Call[T]) -> Any:  # each operation returns an awaitable
        return self._run_async(call)


__all__ = ["AsyncBridgeClient", "BridgeClient", "BridgeError"]
