"""A wheel built from this tree serves pages on its own: templates and static files ship inside it."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import httpx2

from tests.support.postgres import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_carries_templates_and_static_files_and_serves_pages(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("webview_bridge-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "webview_bridge/templates/base.html" in names
    assert "webview_bridge/static/app.css" in names
    assert "webview_bridge/store/migrations/versions/0001_foundation.py" in names
    assert "webview_bridge/banks/sandbox_banks.json" in names
    assert "webview_bridge/banks/xs2a/spec/psd2-api_v1.3.11-2021-10-01v1.yaml" in names
    assert "webview_bridge/locale/de/LC_MESSAGES/messages.po" in names

    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(unpacked)}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "webview_bridge", "serve", "--port", str(port)],
        cwd=elsewhere, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        for _ in range(300):
            try:
                page = httpx2.get(f"http://127.0.0.1:{port}/", timeout=1)
                break
            except httpx2.HTTPError:
                assert proc.poll() is None, proc.stderr.read()
                subprocess.run(["sleep", "0.05"])
        assert page.status_code == 200 and "webview-bridge" in page.text
        assert httpx2.get(f"http://127.0.0.1:{port}/static/app.css").status_code == 200
        where = subprocess.run([sys.executable, "-c", "import webview_bridge.resources as r; print(r.TEMPLATES_DIR)"],
                               cwd=elsewhere, env=env, capture_output=True, text=True).stdout.strip()
        assert where.startswith(str(unpacked))
        assert (elsewhere / "webview_bridge.db").exists()  # the embedded default: a file in the working directory
    finally:
        proc.kill()
        proc.wait()


def test_a_tpp_can_install_the_client_alone(tmp_path):
    """The wheel's plain requirements are the client's; the server's come only with the `server` extra."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = tmp_path.glob("webview_bridge-*.whl")
    metadata = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("METADATA"))
    requires = [line.split(":", 1)[1].strip() for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
                if line.startswith("Requires-Dist:")]
    import re

    def name(requirement: str) -> str:
        return re.match(r"[A-Za-z0-9_.-]+", requirement).group(0).lower()

    plain = {name(r) for r in requires if "extra ==" not in r}
    server_marker = re.compile(r"extra == [\"']server[\"']")
    assert plain == {"starlette", "jinja2", "babel", "itsdangerous", "pydantic", "httpx2", "standardwebhooks"}
    server_only = {name(r) for r in requires if server_marker.search(r)}
    assert {"sqlalchemy", "alembic", "authlib", "uvicorn", "psycopg"} <= server_only
