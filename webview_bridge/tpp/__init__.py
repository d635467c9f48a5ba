"""The TPP helper (PROTOCOL §9): a client for the server's API and mountable start/callback
endpoints for the TPP's own backend."""

from webview_bridge.tpp._core import BridgeError
from webview_bridge.tpp.client import AsyncBridgeClient, BridgeClient
from webview_bridge.tpp.routes import LinkResult, MemoryReplayGuard, ReplayGuard, TppConfig, tpp_app

__all__ = [
    "AsyncBridgeClient", "BridgeClient", "BridgeError", "LinkResult", "MemoryReplayGuard", "ReplayGuard", "TppConfig",
    "tpp_app",
]
