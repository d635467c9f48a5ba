"""The product as an ASGI factory for granian (bench/servers.py): settings from the environment,
as `serve` reads them."""

from webview_bridge import logs
from webview_bridge.app import create_app
from webview_bridge.settings import settings_from_env


def app():
    logs.configure()
    return create_app(settings_from_env())
