"""https and the Secure flag come from the configured public URL and the scope's scheme (which
uvicorn sets from a trusted proxy's X-Forwarded-Proto), never from the Host header."""

import inspect

import pytest

from webview_bridge.security.transport import cookie_secure, is_https, is_loopback_url, plain_http_refused


@pytest.mark.parametrize(
    ("public_url", "scheme", "https", "refused", "secure"),
    [
        ("https://bridge.example", "http", True, False, True),  # TLS ends at the operator's proxy
        ("HTTPS://bridge.example", "http", True, False, True),
        ("https://bridge.example", "https", True, False, True),
        ("http://bridge.example", "https", True, False, True),  # a trusted proxy said https
        ("http://bridge.example", "http", False, True, True),  # plain http in public: refused, cookies still Secure
        ("http://127.0.0.1:8000", "http", False, False, False),  # the development server
        ("http://localhost:8000", "http", False, False, False),
        ("http://[::1]:8000", "http", False, False, False),
        ("http://127.0.0.1:8000", "https", True, False, True),
        ("http://0.0.0.0:8000", "http", False, True, True),  # every interface is not loopback
        ("http://127.0.0.1.bridge.example", "http", False, True, True),
    ],
)
def test_the_decision_table(public_url, scheme, https, refused, secure):
    assert is_https(public_url, scheme) is https
    assert plain_http_refused(public_url, scheme) is refused
    assert cookie_secure(public_url, scheme) is secure


def test_loopback_urls():
    assert is_loopback_url("http://127.0.0.5:1") and not is_loopback_url("https://127.0.0.1")
    assert not is_loopback_url("http://bridge.example")


def test_nothing_here_can_see_a_host_header():
    """The functions take the public URL and the scope's scheme: there is no request to read a Host from."""
    for function in (is_https, plain_http_refused, cookie_secure):
        assert list(inspect.signature(function).parameters) == ["public_url", "scope_scheme"]
