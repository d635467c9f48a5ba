"""The sandbox ASPSP: a built-in simulated bank that speaks Berlin Group NextGenPSD2 over HTTP.

    from webview_bridge.sandbox_bank import SandboxConfig, sandbox_bank_app
    Mount("/sandbox-bank", app=sandbox_bank_app(SandboxConfig(db=…, clock=…, public_url=…, bank=directory.get, …)))
"""

from webview_bridge.sandbox_bank import schema as _schema  # noqa: F401 - puts the bank's tables on the shared metadata
from webview_bridge.sandbox_bank.app import sandbox_bank_app
from webview_bridge.sandbox_bank.config import SandboxConfig
from webview_bridge.sandbox_bank.standalone import serve_standalone

__all__ = ["SandboxConfig", "sandbox_bank_app", "serve_standalone"]
