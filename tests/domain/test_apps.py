import pytest

from webview_bridge.domain.apps import validate_embed_origin, validate_redirect_url


@pytest.mark.parametrize(
    "url",
    [
        "https://tpp.example/callback",
        "https://tpp.example/cb?client=7",
        "http://127.0.0.1:8080/cb",
        "http://localhost/cb",
        "http://[::1]:9000/cb",
        "myapp://callback",
        "com.example.app:/cb",
    ],
)
def test_acceptable_redirect_urls(url):
    assert validate_redirect_url(url) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://tpp.example/cb", "loopback"),
        ("http://10.0.0.1/cb", "loopback"),
        ("https://tpp.example/cb#frag", "fragment"),
        ("https://tpp.example/cb?state=1", "reserved parameter 'state'"),
        ("https://tpp.example/cb?a=1&request-id=x", "reserved parameter 'request-id'"),
        ("javascript:alert(1)", "not allowed"),
        ("data:text/html,hi", "not allowed"),
        ("https:///nohost", "no host"),
        ("https://user:pw@tpp.example/cb", "credentials"),
        ("tpp.example/cb", "no valid scheme"),
        ("https://tpp.example/c b", "spaces"),
    ],
)
def test_refused_redirect_urls_say_why(url, why):
    with pytest.raises(ValueError, match=why):
        validate_redirect_url(url)


def test_embed_origin_is_an_origin_and_nothing_more():
    assert validate_embed_origin("https://bank.example") == "https://bank.example"
    assert validate_embed_origin("http://localhost:3000") == "http://localhost:3000"
    for bad in ("https://bank.example/path", "http://bank.example", "bank.example", "https://bank.example?x=1"):
        with pytest.raises(ValueError):
            validate_embed_origin(bad)
