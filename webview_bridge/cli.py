"""webview-bridge serve | apps … | db upgrade | keys rotate (PROTOCOL §2, §10)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from webview_bridge import __version__
from webview_bridge.domain.apps import ROLE_CHOICES, validate_app_name, validate_embed_origin, validate_redirect_url

try:  # the server is an extra: a TPP that installed only the client gets a sentence, not a traceback
    from webview_bridge.banks.directory import DirectoryError
    from webview_bridge.clock import SystemClock
    from webview_bridge.runtime import Runtime
    from webview_bridge.settings import Settings, SettingsError, settings_from_env
    from webview_bridge.store import apps as app_store
    from webview_bridge.store import server_keys
    from webview_bridge.store.database import Database, DatabaseError
except ModuleNotFoundError as missing:  # pragma: no cover - only without the server extra
    sys.exit(f"webview-bridge: error: the server needs its own packages: pip install 'webview-bridge[server]' "
             f"({missing.name} is missing)")


class CliError(Exception):
    """Ends the command with one line on stderr and exit status 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not a usage dump
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--database", metavar="URL", help="SQLAlchemy or postgresql:// URL (env WEBVIEW_BRIDGE_DATABASE_URL)")

    parser = _Parser(prog="webview-bridge", description="Open-banking consent server for in-app WebViews.")
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    serve = commands.add_parser("serve", parents=[common], help="serve the API and the pages")
    serve.add_argument("--host", default=None, help="default 127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default 8000")
    serve.add_argument("--public-url", metavar="URL", help="base URL browsers and TPPs use (env WEBVIEW_BRIDGE_PUBLIC_URL)")
    serve.add_argument("--demo", action="store_true", help="also register and mount the demo TPP at /demo")
    serve.add_argument("--templates", metavar="DIR", type=Path, help="templates here override the built-in ones by name")
    serve.add_argument("--banks", metavar="FILE", type=Path, help="the bank directory file (env WEBVIEW_BRIDGE_BANKS)")

    apps = commands.add_parser("apps", help="register and manage apps").add_subparsers(
        dest="apps_command", required=True, parser_class=_Parser
    )
    create = apps.add_parser("create", parents=[common], help="register an app; prints its secrets once")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=sorted(ROLE_CHOICES))
    create.add_argument("--redirect-url", action="append", default=[], metavar="URL")
    create.add_argument("--bank-id", metavar="BANK")
    create.add_argument("--independent-activation", action="store_true")
    create.add_argument("--embed-origin", metavar="ORIGIN")
    create.add_argument("--json", action="store_true")
    listing = apps.add_parser("list", parents=[common], help="list apps (never their secrets)")
    listing.add_argument("--json", action="store_true")
    rotate = apps.add_parser("rotate-secret", parents=[common], help="replace an app's secret")
    rotate.add_argument("app_id")
    rotate.add_argument("--json", action="store_true")
    rotate_cb = apps.add_parser("rotate-callback-secret", parents=[common], help="add a newer callback secret")
    rotate_cb.add_argument("app_id")
    rotate_cb.add_argument("--retire-old", action="store_true", help="older callback secrets stop verifying")
    rotate_cb.add_argument("--json", action="store_true")

    sandbox = commands.add_parser("sandbox-bank", parents=[common],
                                  help="the built-in sandbox bank (Berlin Group NextGenPSD2) on its own")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8090)
    sandbox.add_argument("--public-url", metavar="URL", help="where browsers reach it (default http://HOST:PORT/sandbox-bank)")
    sandbox.add_argument("--tls-cert", metavar="PEM", help="serve https with this certificate")
    sandbox.add_argument("--tls-key", metavar="PEM")
    sandbox.add_argument("--client-ca", metavar="PEM", help="require TLS client certificates issued by this CA")
    sandbox.add_argument("--validate", action="store_true", help="hold every call to the Berlin Group file (slower)")

    banks = commands.add_parser("banks", help="the bank directory").add_subparsers(
        dest="banks_command", required=True, parser_class=_Parser)
    check = banks.add_parser("check", help="validate a bank directory file; --probe calls each real bank once")
    check.add_argument("--banks", metavar="FILE", type=Path, help="default: env WEBVIEW_BRIDGE_BANKS, else the sandbox banks")
    check.add_argument("--probe", action="store_true", help="call each xs2a bank once to prove its URL and certificates")
    check.add_argument("--json", action="store_true")

    db = commands.add_parser("db", help="database").add_subparsers(dest="db_command", required=True, parser_class=_Parser)
    db.add_parser("upgrade", parents=[common], help="apply migrations")
    keys = commands.add_parser("keys", help="server keys").add_subparsers(dest="keys_command", required=True, parser_class=_Parser)
    keys.add_parser("rotate", parents=[common], help="add a newer server key")
    return parser


def _print(args: argparse.Namespace, payload: dict[str, Any], human: str) -> None:
    print(json.dumps(payload) if getattr(args, "json", False) else human)


def _settings(args: argparse.Namespace) -> Settings:
    return settings_from_env(
        database_url=getattr(args, "database", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        public_url=getattr(args, "public_url", None),
        demo=getattr(args, "demo", None) or None,
        templates_dir=getattr(args, "templates", None),
        banks_file=getattr(args, "banks", None),
    )


def _serve(args: argparse.Namespace) -> None:
    from webview_bridge import logs, serving
    from webview_bridge.app import create_app

    settings = _settings(args)
    logs.configure()
    app = create_app(settings)
    logs.event("serving", url=settings.base_url, database=app.state.runtime.db.safe_url)
    serving.run(app, settings)


def _apps_create(args: argparse.Namespace) -> None:
    try:
        name = validate_app_name(args.name)
        redirect_urls = tuple(dict.fromkeys(validate_redirect_url(u) for u in args.redirect_url))
        embed_origin = validate_embed_origin(args.embed_origin) if args.embed_origin else None
    except ValueError as exc:
        raise CliError(str(exc))
    roles = ROLE_CHOICES[args.role]
    if args.bank_id and "bank" not in roles:
        raise CliError("--bank-id is only for apps with the bank role")
    if args.independent_activation and "bank" not in roles:
        raise CliError("--independent-activation is only for apps with the bank role")
    runtime = Runtime.open(_settings(args))
    created = app_store.create(
        runtime.db, runtime.keyring, runtime.clock,
        name=name, roles=roles, redirect_urls=redirect_urls, bank_id=args.bank_id,
        independent_activation=args.independent_activation, embed_origin=embed_origin,
    )
    payload = {"app_id": created.app_id, "app_secret": created.app_secret, "callback_secret": created.callback_secret}
    human = "\n".join(f"{k}: {v}" for k, v in payload.items()) + "\nThe secrets are shown only now: keep them."
    _print(args, payload, human)


def _apps_list(args: argparse.Namespace) -> None:
    runtime = Runtime.open(_settings(args))
    rows = [
        {
            "app_id": a.id, "name": a.name, "roles": sorted(a.roles), "redirect_urls": list(a.redirect_urls),
            "bank_id": a.bank_id, "independent_activation": a.independent_activation,
            "embed_origin": a.embed_origin, "created_at": a.created_at.isoformat(),
        }
        for a in app_store.list_all(runtime.db)
    ]
    if args.json:
        print(json.dumps({"apps": rows}))
    else:
        for row in rows:
            print(f"{row['app_id']}  {','.join(row['roles']):8}  {row['name']}")


def _apps_rotate_secret(args: argparse.Namespace) -> None:
    runtime = Runtime.open(_settings(args))
    secret = app_store.rotate_secret(runtime.db, runtime.keyring, args.app_id)
    if secret is None:
        raise CliError(f"no app {args.app_id!r}")
    _print(args, {"app_id": args.app_id, "app_secret": secret}, f"app_secret: {secret}\nThe old secret no longer works.")


def _apps_rotate_callback_secret(args: argparse.Namespace) -> None:
    runtime = Runtime.open(_settings(args))
    secret = app_store.rotate_callback_secret(runtime.db, runtime.keyring, runtime.clock, args.app_id, retire_old=args.retire_old)
    if secret is None:
        raise CliError(f"no app {args.app_id!r}")
    note = "Older callback secrets no longer verify." if args.retire_old else "Older callback secrets still verify."
    _print(args, {"app_id": args.app_id, "callback_secret": secret}, f"callback_secret: {secret}\n{note}")


def _sandbox_bank(args: argparse.Namespace) -> None:
    from webview_bridge import logs
    from webview_bridge.sandbox_bank import serve_standalone

    settings = _settings(args)
    runtime = Runtime.open(settings)  # the keys a main server on the same database uses
    logs.configure()
    logs.event("sandbox bank serving", port=args.port, database=runtime.db.safe_url)
    serve_standalone(
        host=args.host, port=args.port, database_url=settings.database_url, public_url=args.public_url,
        tpp_name=settings.operator_name, tls_cert=args.tls_cert, tls_key=args.tls_key, client_ca=args.client_ca,
        validate=args.validate, trusted_key=runtime.sandbox_trusted_key,
        secret=runtime.keyring.derive("sandbox-bank/pages")[0],
    )


def _banks_check(args: argparse.Namespace) -> None:
    import asyncio

    from webview_bridge.banks.directory import load_directory
    from webview_bridge.banks.registry import Banks

    settings = _settings(args)
    directory = load_directory(settings.banks_file)
    real = [b for b in directory.banks if directory.connector_settings(b.id).type == "xs2a"]
    rows = [{"bank_id": b.id, "connector": directory.connector_settings(b.id).type} for b in directory.banks]
    failed = 0
    if args.probe:
        banks = Banks(directory, base_url=settings.internal_url, account_id=lambda bank, ref: ref,
                      now=SystemClock().now, trusted_key=None)

        async def probe_all() -> dict[str, str]:
            found = {}
            for bank in real:
                try:
                    found[bank.id] = "ok: " + await banks.probe(bank)
                except Exception as exc:  # noqa: BLE001 - every failure is reported, none stops the others
                    found[bank.id] = f"failed: {exc}"
            await banks.aclose()
            return found

        probed = asyncio.run(probe_all())
        for row in rows:
            if row["bank_id"] in probed:
                row["probe"] = probed[row["bank_id"]]
        failed = sum(1 for result in probed.values() if result.startswith("failed"))
    if args.json:
        print(json.dumps({"banks": rows, "real_banks": len(real), "failed": failed}))
    else:
        print(f"{len(directory.banks)} banks ({len(real)} real), the file is valid")
        for row in rows:
            if "probe" in row:
                print(f"{row['bank_id']}: {row['probe']}")
    if failed:
        raise CliError(f"{failed} of {len(real)} banks failed the probe")


def _db_upgrade(args: argparse.Namespace) -> None:
    db = Database(_settings(args).database_url)
    db.ping()
    db.upgrade()
    print(f"database at revision {db.current_revision()}")


def _keys_rotate(args: argparse.Namespace) -> None:
    settings = _settings(args)
    if settings.secret_keys:
        raise CliError("keys come from WEBVIEW_BRIDGE_SECRET_KEYS: append a new key there instead")
    runtime = Runtime.open(settings)
    count = server_keys.rotate(runtime.db, runtime.clock)
    print(f"added a new server key; {count} keys, the newest signs and encrypts")


_COMMANDS = {
    ("serve", None): _serve,
    ("apps", "create"): _apps_create,
    ("apps", "list"): _apps_list,
    ("apps", "rotate-secret"): _apps_rotate_secret,
    ("apps", "rotate-callback-secret"): _apps_rotate_callback_secret,
    ("sandbox-bank", None): _sandbox_bank,
    ("banks", "check"): _banks_check,
    ("db", "upgrade"): _db_upgrade,
    ("keys", "rotate"): _keys_rotate,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sub = getattr(args, f"{args.command}_command", None)
    try:
        _COMMANDS[(args.command, sub)](args)
    except (CliError, SettingsError, DatabaseError, DirectoryError) as exc:
        print(f"webview-bridge: error: {exc}", file=sys.stderr)
        return 1
    return 0
