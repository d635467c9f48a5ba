"""The operator's CLI, run as a real process on both databases."""

import httpx2
import pytest

from tests.support.processes import ServeProcess, cli, cli_json


def test_apps_create_prints_secrets_once_and_list_never_does(database_url):
    created = cli_json(
        "apps", "create", "--database", database_url, "--name", "Acme Bank", "--role", "both",
        "--redirect-url", "https://acme.example/cb", "--redirect-url", "acme://done",
        "--bank-id", "sandbox", "--independent-activation", "--embed-origin", "https://acme.example",
    )
    assert created["app_id"].startswith("app_")
    assert len(created["app_secret"]) >= 43 and len(created["callback_secret"]) >= 43
    listed = cli("apps", "list", "--database", database_url, "--json")
    assert listed.returncode == 0
    assert created["app_secret"] not in listed.stdout and created["callback_secret"] not in listed.stdout
    (app,) = cli_json("apps", "list", "--database", database_url)["apps"]
    assert app["app_id"] == created["app_id"]
    assert app["roles"] == ["bank", "tpp"]
    assert app["redirect_urls"] == ["https://acme.example/cb", "acme://done"]
    assert (app["bank_id"], app["independent_activation"], app["embed_origin"]) == ("sandbox", True, "https://acme.example")


def test_a_bad_redirect_url_is_one_line_nonzero_and_writes_nothing(database_url):
    done = cli("apps", "create", "--database", database_url, "--name", "X", "--role", "tpp",
               "--redirect-url", "https://ok.example/cb", "--redirect-url", "http://plain.example/cb")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "plain http" in done.stderr
    assert cli_json("apps", "list", "--database", database_url)["apps"] == []


@pytest.mark.parametrize(
    ("args", "status", "says"),
    [
        (["serve", "--bogus"], 2, "unrecognized arguments: --bogus"),
        (["apps", "create", "--name", "X", "--role", "owner"], 2, "invalid choice: 'owner'"),
        (["db", "upgrade", "--database", "mysql://db/x"], 1, "scheme 'mysql' is not supported"),
        (["db", "upgrade", "--database", "postgresql://nobody:hunter2@127.0.0.1:1/x"], 1, "cannot reach database"),
    ],
)
def test_operator_mistakes_get_one_line_and_a_nonzero_exit(args, status, says):
    done = cli(*args)
    assert done.returncode == status
    assert says in done.stderr and done.stderr.count("\n") == 1
    assert "hunter2" not in done.stderr


def test_rotating_secrets(database_url, clock):
    from webview_bridge.runtime import Runtime
    from webview_bridge.settings import Settings
    from webview_bridge.store import apps

    created = cli_json("apps", "create", "--database", database_url, "--name", "T", "--role", "tpp")
    rotated = cli_json("apps", "rotate-secret", created["app_id"], "--database", database_url)
    newer = cli_json("apps", "rotate-callback-secret", created["app_id"], "--database", database_url)
    runtime = Runtime.open(Settings(database_url=database_url), clock)
    try:
        assert apps.authenticate(runtime.db, runtime.keyring, created["app_id"], created["app_secret"]) is None
        assert apps.authenticate(runtime.db, runtime.keyring, created["app_id"], rotated["app_secret"]) is not None
        assert runtime.callback_secrets(created["app_id"]) == [created["callback_secret"], newer["callback_secret"]]
        # keys rotate re-encrypts callback secrets; a running instance picks up the new key by itself
        assert cli("keys", "rotate", "--database", database_url).returncode == 0
        assert runtime.callback_secrets(created["app_id"]) == [created["callback_secret"], newer["callback_secret"]]
        assert len(runtime.keyring.keys) == 2
        newest = cli_json("apps", "rotate-callback-secret", created["app_id"], "--retire-old", "--database", database_url)
        assert runtime.callback_secrets(created["app_id"]) == [newest["callback_secret"]]
    finally:
        runtime.close()
    assert "no app" in cli("apps", "rotate-secret", "app_missing", "--database", database_url).stderr


def test_keys_rotate_refuses_when_keys_come_from_the_environment(database_url):
    done = cli("keys", "rotate", "--database", database_url, env={"WEBVIEW_BRIDGE_SECRET_KEYS": "k" * 40})
    assert done.returncode == 1 and "WEBVIEW_BRIDGE_SECRET_KEYS" in done.stderr


def test_an_app_survives_kill_9_of_the_server(database_url):
    first = ServeProcess(database_url)
    try:
        created = cli_json("apps", "create", "--database", database_url, "--name", "Durable", "--role", "tpp")
    finally:
        first.kill()
    second = ServeProcess(database_url)
    try:
        assert [a["app_id"] for a in cli_json("apps", "list", "--database", database_url)["apps"]] == [created["app_id"]]
        token = httpx2.post(second.url + "/oauth/token", data={"grant_type": "client_credentials"},
                           auth=(created["app_id"], created["app_secret"]))
        assert token.status_code == 200
    finally:
        second.kill()


def test_serve_migrates_an_empty_database(tmp_path):
    url = f"sqlite:///{tmp_path}/fresh.db"
    proc = ServeProcess(url)
    proc.kill()
    assert cli("db", "upgrade", "--database", url).stdout.startswith("database at revision")


@pytest.mark.databases("sqlite")
def test_a_bad_bank_directory_stops_serve_with_one_line_naming_the_bank_and_field(database_url, tmp_path):
    bad = tmp_path / "banks.json"
    bad.write_text('{"banks": [{"id": "hausbank", "name": "Hausbank", "countries": ["DE"], '
                   '"connector": {"type": "xs2a", "base_url": "https://x.example", "client_cert": "qwac.pem", '
                   '"client_key": "qwac.key"}}]}')
    for args in (["serve", "--database", database_url, "--port", "1", "--banks", str(bad)],
                 ["banks", "check", "--banks", str(bad)]):
        done = cli(*args)
        assert done.returncode == 1 and done.stderr.count("\n") == 1, done.stderr
        assert "bank 'hausbank': banks[0].connector.client_cert: cannot read" in done.stderr
    by_env = cli("serve", "--database", database_url, "--port", "1", env={"WEBVIEW_BRIDGE_BANKS": str(bad)})
    assert by_env.returncode == 1 and "banks[0].connector.client_cert" in by_env.stderr


@pytest.mark.databases("sqlite")
def test_banks_check_accepts_a_good_file_and_probes_real_banks(tmp_path):
    good = tmp_path / "banks.json"
    good.write_text('{"include_sandbox": true, "banks": [{"id": "hausbank", "name": "Hausbank", "countries": ["DE"], '
                    '"connector": {"type": "xs2a", "base_url": "http://127.0.0.1:9", "timeout_seconds": 2}}]}')
    checked = cli_json("banks", "check", "--banks", str(good))
    assert checked["real_banks"] == 1 and len(checked["banks"]) > 30
    probed = cli("banks", "check", "--banks", str(good), "--probe", "--json")
    assert probed.returncode == 1 and "1 of 1 banks failed the probe" in probed.stderr
    assert '"probe": "failed: ' in probed.stdout  # nothing listens on port 9
