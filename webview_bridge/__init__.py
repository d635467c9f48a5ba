"""webview-bridge: an open-banking consent server built for in-app WebViews."""

__version__ = "0.1.0"

__all__ = ["__version__", "create_app", "phone_hash"]


def __getattr__(name: str):  # lazy, so `import webview_bridge` stays cheap for the CLI and TPP helper
    if name == "create_app":
        from webview_bridge.app import create_app

        return create_app
    if name == "phone_hash":
        from webview_bridge.domain.customers import phone_hash

        return phone_hash
    raise AttributeError(name)
