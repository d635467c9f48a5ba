"""The fixed-seed schemathesis runs inside `make test` (`make fuzz` runs the long ones): no 5xx,
every status and content type documented, every response — errors included — matching the
OpenAPI document the server serves; on SQLite, on PostgreSQL, and on two instances of one
PostgreSQL database behind a round-robin."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _fuzz(database: str, *extra: str) -> dict:
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "fuzz.py"), "--max-examples", "8", "--seed", "20261121",
                           "--database", database, *extra], capture_output=True, text=True, timeout=900)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["exit_status"] == 0, done.stdout[-6000:]
    assert summary["test_cases"] > 0
    return summary


def test_schemathesis_finds_nothing(database_kind, database_url, tmp_path):
    database = f"sqlite:///{tmp_path}/fuzz.db" if database_kind == "sqlite" else database_url
    assert _fuzz(database)["database"] == database_kind


@pytest.mark.databases("postgresql")
def test_schemathesis_finds_nothing_on_two_instances_behind_a_round_robin(database_url):
    assert _fuzz(database_url, "--instances", "2")["instances"] == 2
