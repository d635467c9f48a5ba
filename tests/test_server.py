"""The server's common behaviour: health, the OpenAPI document, errors, trace ids, logs."""

import json
import logging

import pytest

from webview_bridge.runtime import Runtime
from webview_bridge.settings import Settings


def test_healthz_answers_once_storage_does(http):
    response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_is_3_1_and_generated_from_the_routes(http):
    spec = http.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert "get" in spec["paths"]["/healthz"]
    assert spec["paths"]["/healthz"]["get"]["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Health"
    }


def test_unknown_path_and_wrong_method_answer_the_error_shape(http):
    missing = http.get("/no-such-thing")
    assert missing.status_code == 404
    assert missing.json() == {"error": {"code": "not_found", "message": "no such endpoint"}}
    wrong = http.delete("/healthz")
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"


def test_oversized_body_is_413_in_the_error_shape(http, app):
    limit = app.state.runtime.settings.max_body_bytes
    response = http.post("/healthz", content=b"x" * (limit + 1), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_trace_id_is_echoed_when_valid_and_replaced_when_not(http):
    assert http.get("/healthz", headers={"X-Trace-Id": "abc-123"}).headers["X-Trace-Id"] == "abc-123"
    replaced = http.get("/healthz", headers={"X-Trace-Id": "bad id\twith spaces"}).headers["X-Trace-Id"]
    assert replaced and replaced != "bad id\twith spaces"
    assert http.get("/nope").headers["X-Trace-Id"]


def test_each_request_logs_one_json_line_with_route_not_path(http, caplog):
    with caplog.at_level(logging.INFO, logger="webview_bridge.access"):
        http.get("/healthz", headers={"X-Trace-Id": "log-check"})
    lines = [r for r in caplog.records if getattr(r, "fields", {}).get("trace_id") == "log-check"]
    assert len(lines) == 1
    fields = lines[0].fields
    assert fields["route"] == "/healthz" and fields["status"] == 200 and fields["method"] == "GET"
    assert fields["duration_ms"] >= 0
    from webview_bridge.logs import JsonFormatter

    assert json.loads(JsonFormatter().format(lines[0]))["trace_id"] == "log-check"


def test_page_and_static_requests_log_their_route_pattern_never_the_ids_in_the_path(http, caplog):
    paths = {"/app/request-token/rq-secret-id/consent": "/app/request-token/{request_id}/consent",
             "/app/no-such-screen/rq-secret-id": "/app/{path}",
             "/sandbox-bank/sandbox/v1/consents/consent-secret-id/status": "/sandbox-bank/{bank_id}/v1/consents/{consent_id}/status",
             "/static/app.css": "/static/{path}"}
    with caplog.at_level(logging.INFO, logger="webview_bridge.access"):
        for number, path in enumerate(paths):
            http.get(path, headers={"X-Trace-Id": f"route-{number}"})
    logged = {r.fields["trace_id"]: r.fields["route"] for r in caplog.records if hasattr(r, "fields")}
    assert [logged[f"route-{number}"] for number in range(len(paths))] == list(paths.values())


def test_home_page_is_html(http):
    response = http.get("/")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    assert "<h1>webview-bridge</h1>" in response.text


def test_every_instance_on_one_database_shares_the_generated_keys(database_url, clock):
    first = Runtime.open(Settings(database_url=database_url), clock)
    second = Runtime.open(Settings(database_url=database_url), clock)
    assert first.keyring.keys == second.keyring.keys
    configured = Runtime.open(Settings(database_url=database_url, secret_keys=("e" * 40,)), clock)
    assert configured.keyring.keys == ("e" * 40,)
    for runtime in (first, second, configured):
        runtime.close()


def test_a_slow_client_does_not_hold_the_server(server, http):
    """A client that trickles its body (or never finishes it) ties up no worker: others are served."""
    import socket
    import time

    slow = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])))
    slow.sendall(b"POST /token-requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{")
    try:
        started = time.monotonic()
        answers = [http.get("/healthz").status_code for _ in range(20)]
        assert answers == [200] * 20 and time.monotonic() - started < 5
    finally:
        slow.close()


def test_a_key_rotated_elsewhere_reaches_every_instance_within_a_minute(database_url, clock):
    from webview_bridge.store import server_keys

    running = Runtime.open(Settings(database_url=database_url), clock)
    try:
        assert len(running.keyring.keys) == 1
        server_keys.rotate(running.db, clock)  # what `keys rotate` does from another process
        clock.advance(seconds=30)
        assert len(running.keyring.keys) == 1  # not yet re-read
        clock.advance(seconds=30)
        assert len(running.keyring.keys) == 2
    finally:
        running.close()


def test_pages_are_gzipped_and_answers_within_one_tcp_segment_are_not(http):
    page = http.get("/", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"
    assert int(page.headers["content-length"]) < len(page.content)  # httpx decoded it: the wire carried less
    assert "<h1>webview-bridge</h1>" in page.text
    small = http.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
    assert http.get("/", headers={"Accept-Encoding": "identity"}).headers.get("content-encoding") is None


def test_an_answer_longer_than_the_compression_window_arrives_whole(http):
    """The gzip window is 16 KB: an answer many times that (the OpenAPI document) decodes to
    exactly what an uncompressed request gets, in a fraction of the bytes."""
    plain = http.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    packed = http.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert len(plain.content) > 4 * 16 * 1024
    assert packed.headers["content-encoding"] == "gzip" and "accept-encoding" in packed.headers["vary"].lower()
    assert packed.content == plain.content
    assert int(packed.headers["content-length"]) < len(plain.content) / 4


def _send_head(port: int, header_bytes: int, chunk: int = 64 * 1024) -> bytes:
    """Send a GET whose one header holds `header_bytes`, as fast as the server takes it; what came
    back (b"" when the server closed the connection without a word)."""
    import socket

    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    try:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Huge: ")
        sent = 0
        try:
            while sent < header_bytes:
                sock.sendall(b"a" * min(chunk, header_bytes - sent))
                sent += chunk
            sock.sendall(b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused mid-head
        answer = b""
        try:
            while len(answer) < 4096:
                part = sock.recv(4096)
                if not part:
                    break
                answer += part
        except (ConnectionResetError, TimeoutError):
            pass
        return answer
    finally:
        sock.close()


@pytest.fixture
def serve_process(database_url):
    from tests.support.processes import ServeProcess

    server = ServeProcess(database_url)
    yield server
    server.kill()


@pytest.mark.databases("sqlite")
@pytest.mark.parametrize("size", [70 * 1024, 16 * 1024 * 1024])
def test_a_request_head_over_64_kib_is_refused_without_stalling_anyone(serve_process, size):
    """PROTOCOL §1: 431, or 400 and close, or close; meanwhile every other request is answered."""
    import threading

    import httpx2

    port = serve_process.port
    outcome: list[bytes] = []
    huge = threading.Thread(target=lambda: outcome.append(_send_head(port, size)))
    huge.start()
    with httpx2.Client(base_url=serve_process.url, timeout=10) as others:
        answers = [others.get("/healthz").status_code for _ in range(20)]
    huge.join(timeout=60)
    assert answers == [200] * 20
    (answer,) = outcome
    assert answer == b"" or answer.startswith((b"HTTP/1.1 431 ", b"HTTP/1.1 400 ")), answer[:200]
    assert b" 200 " not in answer.split(b"\r\n", 1)[0]


@pytest.mark.databases("sqlite")
def test_heads_up_to_64_kib_are_served(serve_process):
    answer = _send_head(serve_process.port, 60 * 1024, chunk=7 * 1024)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:200]
    # Many requests on one connection, pipelined in one write: each head is small, together they are not.
    import socket

    with socket.create_connection(("127.0.0.1", serve_process.port), timeout=20) as sock:
        one = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 2000 + b"\r\n\r\n"
        sock.sendall(one * 40)  # 80 KB of heads
        received = b""
        while received.count(b"HTTP/1.1 200 ") < 40:
            part = sock.recv(65536)
            assert part, received[-300:]
            received += part
