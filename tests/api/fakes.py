"""Fake neighbours as real HTTP servers on 127.0.0.1: a webhook receiver that verifies Standard
Webhooks signatures, can fail or stall on purpose, and records what it received."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError


class Receiver:
    """``with Receiver() as receiver:`` … ``receiver.url``; ``receiver.messages`` are the
    verified bodies, ``receiver.ids`` the webhook-id of each, in arrival order."""

    def __init__(self, secret: str | None = None):
        self.secret = secret
        self.messages: list[dict] = []
        self.ids: list[str] = []
        self.rejected: list[str] = []
        self.fail_next = 0  # answer 500 to this many requests
        self.stall_next = 0  # sleep past the sender's timeout for this many
        self.stall_seconds = 2.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    stall = receiver.stall_next > 0
                    receiver.stall_next -= 1 if stall else 0
                    fail = not stall and receiver.fail_next > 0
                    receiver.fail_next -= 1 if fail else 0
                if stall:
                    time.sleep(receiver.stall_seconds)
                if fail:
                    self._answer(500, b"busy")
                    return
                try:
                    payload = Webhook(receiver.secret).verify(body, dict(self.headers))
                except WebhookVerificationError as exc:
                    receiver.rejected.append(str(exc))
                    self._answer(400, b"bad signature")
                    return
                with receiver.lock:
                    receiver.messages.append(payload)
                    receiver.ids.append(self.headers["webhook-id"])
                self._answer(204, b"")

            def _answer(self, status, body):
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (a timeout we caused)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"

    def __enter__(self):
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def of_type(self, event_type: str) -> list[dict]:
        return [message for message in self.messages if message["type"] == event_type]


def dumps(value) -> bytes:
    return json.dumps(value).encode()
