"""A TPP's webhook endpoint on loopback that verifies every delivery with the standardwebhooks
library (any Standard Webhooks verifier would do), and can be told to fail."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support.postgres import free_port


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.secret: str | None = None
        self.failing = False
        self.received: list[dict] = []  # verified bodies, in arrival order
        self.headers: list[dict] = []
        self.refused: list[str] = []  # why a delivery did not verify
        self.attempts = 0
        self.on_event = None  # called with each verified event, as it arrives
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server convention
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                owner.attempts += 1
                if owner.failing:
                    self.send_response(500)
                    self.end_headers()
                    return
                try:
                    event = Webhook(owner.secret).verify(body, dict(self.headers))
                    owner.received.append(event)
                    if owner.on_event is not None:
                        owner.on_event(event)
                    owner.headers.append({k.lower(): v for k, v in self.headers.items()})
                    self.send_response(204)
                except WebhookVerificationError as problem:
                    owner.refused.append(str(problem))
                    self.send_response(400)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def types(self) -> list[str]:
        return [event["type"] for event in self.received]

    def close(self) -> None:
        self.server.shutdown()
