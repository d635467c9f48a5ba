#!/usr/bin/env python3
"""Fuzz every JSON endpoint with schemathesis against a real `serve` process, authenticated.

    .venv/bin/python scripts/fuzz.py                       # the long run: 500 examples per operation (> 10,000 cases)
    .venv/bin/python scripts/fuzz.py --max-examples 8 --seed 1   # the quick fixed-seed run inside `make test`

Checks: no 5xx, every status and content type documented, every response matching its schema.
Exit status is schemathesis's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.processes import ServeProcess, cli_json  # noqa: E402

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection"
BANK_PATHS = r"^/(customers|client-tokens/.*|activations)$"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--max-examples", type=int, default=500)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="wvb-fuzz-")
    database = args.database or f"sqlite:///{folder}/fuzz.db"
    limits_off = {"WEBVIEW_BRIDGE_RATE_LIMIT_TOKEN": "0", "WEBVIEW_BRIDGE_RATE_LIMIT_API": "0",
                  "WEBVIEW_BRIDGE_RATE_LIMIT_PAGES": "0"}
    tpp = cli_json("apps", "create", "--database", database, "--name", "Fuzz TPP", "--role", "tpp",
                   "--redirect-url", "https://tpp.example/callback")
    bank = cli_json("apps", "create", "--database", database, "--name", "Fuzz bank", "--role", "bank", "--bank-id", "sandbox",
                    "--independent-activation")
    server = ServeProcess(database, env=limits_off)
    status = 0
    try:
        def token(creds: dict) -> str:
            return httpx2.post(server.url + "/oauth/token", data={"grant_type": "client_credentials"},
                              auth=(creds["app_id"], creds["app_secret"])).json()["access_token"]

        common = ["--checks", CHECKS, "--max-examples", str(args.max_examples), "--request-timeout", "30",
                  "--suppress-health-check", "all", "--workers", "2"]
        if args.seed is not None:
            common += ["--seed", str(args.seed), "--generation-deterministic"]
        runs = [
            ["--exclude-path-regex", BANK_PATHS, "-H", f"Authorization: Bearer {token(tpp)}"],
            ["--include-path-regex", r"^/(customers|client-tokens/.*)$", "-H", f"Authorization: Bearer {token(bank)}"],
        ]
        for extra in runs:
            command = [str(Path(sys.executable).parent / "schemathesis"), "run", server.url + "/openapi.json", *common, *extra]
            done = subprocess.run(command, env={**os.environ, "SCHEMATHESIS_TELEMETRY": "false", "NO_COLOR": "1"})
            status = status or done.returncode
    finally:
        server.kill()
    print(json.dumps({"fuzz": "schemathesis", "max_examples_per_operation": args.max_examples, "exit_status": status}))
    return status


if __name__ == "__main__":
    sys.exit(main())
