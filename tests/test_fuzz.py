"""The fixed-seed schemathesis run inside `make test` (`make fuzz` runs the long one): no 5xx,
every status and content type documented, every response — errors included — matching the
OpenAPI document the server serves."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.databases("sqlite")
def test_schemathesis_finds_nothing(database_url, tmp_path):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "fuzz.py"), "--max-examples", "8", "--seed", "20261121",
                           "--database", f"sqlite:///{tmp_path}/fuzz.db"], capture_output=True, text=True, timeout=900)
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["exit_status"] == 0, done.stdout[-6000:]
