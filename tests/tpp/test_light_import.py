"""The TPP helper is a client of the protocol: a TPP's backend that imports it loads none of the
server (no database, no migrations, no OAuth server, no banks)."""

import subprocess
import sys

SERVER = ("sqlalchemy", "alembic", "authlib", "uvicorn", "psycopg", "openapi_core", "httpsig",
          "webview_bridge.store", "webview_bridge.api", "webview_bridge.runtime", "webview_bridge.app",
          "webview_bridge.banks", "webview_bridge.sandbox_bank", "webview_bridge.web", "webview_bridge.oauth",
          "webview_bridge.worker", "webview_bridge.settings")


def test_importing_the_tpp_helper_loads_no_server_module():
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, webview_bridge.tpp; print('\\n'.join(sys.modules))"],
        capture_output=True, text=True, check=True).stdout.split()
    assert [m for m in loaded if m == "webview_bridge.tpp"]
    assert [m for m in loaded if m.startswith(SERVER)] == []
