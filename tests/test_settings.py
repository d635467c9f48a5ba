import pytest

from webview_bridge.settings import SettingsError, normalise_database_url, settings_from_env


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db/x", "postgresql+psycopg://u:p@db/x"),
        ("postgres://u@db/x", "postgresql+psycopg://u@db/x"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:///webview_bridge.db", "sqlite:///webview_bridge.db"),
    ],
)
def test_database_urls_map_to_the_driver_we_use(given, expected):
    assert normalise_database_url(given) == expected


@pytest.mark.parametrize("given", ["mysql://db/x", "postgresql+psycopg2://db/x", "not a url", "sqlite+aiosqlite:///x.db"])
def test_unsupported_database_urls_are_refused_by_name(given):
    with pytest.raises(SettingsError, match="database URL"):
        normalise_database_url(given)


def test_flags_win_over_environment_which_wins_over_defaults():
    env = {"WEBVIEW_BRIDGE_DATABASE_URL": "postgresql://env/db", "WEBVIEW_BRIDGE_PUBLIC_URL": "https://env.example"}
    assert settings_from_env(env).database_url == "postgresql+psycopg://env/db"
    assert settings_from_env(env).base_url == "https://env.example"
    assert settings_from_env(env, database_url="sqlite:///flag.db").database_url == "sqlite:///flag.db"
    assert settings_from_env({}).database_url == "sqlite:///webview_bridge.db"
    assert settings_from_env({}).base_url == "http://127.0.0.1:8000"


def test_secret_keys_come_newest_last_and_must_be_long():
    keys = settings_from_env({"WEBVIEW_BRIDGE_SECRET_KEYS": "a" * 32 + ", " + "b" * 32}).secret_keys
    assert keys == ("a" * 32, "b" * 32)
    with pytest.raises(SettingsError, match="32 characters"):
        settings_from_env({"WEBVIEW_BRIDGE_SECRET_KEYS": "short"})


def test_token_lifetimes_are_configurable_and_checked():
    settings = settings_from_env({"WEBVIEW_BRIDGE_ACCESS_TOKEN_TTL": "60", "WEBVIEW_BRIDGE_REFRESH_TOKEN_TTL": "600"})
    assert (settings.access_token_ttl_seconds, settings.refresh_token_ttl_seconds) == (60, 600)
    with pytest.raises(SettingsError, match="ACCESS_TOKEN_TTL"):
        settings_from_env({"WEBVIEW_BRIDGE_ACCESS_TOKEN_TTL": "soon"})
