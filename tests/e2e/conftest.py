import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeTimedSerializer

TPP_PAGE = "<!doctype html><title>TPP</title><h1>Back at the TPP</h1>"


def pytest_collection_modifyitems(items):
    for item in items:
        if "e2e" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture
def tpp_site(context):
    """The TPP's callback host, answered inside the browser (there is no network here)."""
    context.route("https://tpp.example/**", lambda route: route.fulfill(status=200, body=TPP_PAGE, content_type="text/html"))
    return "https://tpp.example/callback"


def callback_params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def verify_state(state: str, callback_secret: str) -> dict:
    """Exactly what any TPP does with the state, with nothing but itsdangerous."""
    serializer = URLSafeTimedSerializer(callback_secret, salt="webview-bridge/callback",
                                        signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256})
    return serializer.loads(state, max_age=600)
