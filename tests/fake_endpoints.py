"""A fake of the outside services on 127.0.0.1: the SMS brandname gateway, Zalo ZNS and the
national portal's connection point. It checks every request's shape (the portal's against the
JSON schema kept in the repository), keeps one copy per idempotency key like the real services,
and can be told to answer 503, to time out, or to fail now and then."""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from jsonschema import Draft202012Validator

from dvcqg.payloads import schema


class FakeEndpoints:
    def __init__(self, *, seed: int = 7):
        self.mode = "ok"  # ok | down | timeout | timeout_after_accept | flaky
        self.flaky_rate = 0.3
        self.random = random.Random(seed)
        self.delay = 2.0  # seconds a timeout holds the answer (clients wait less)
        self.requests: Counter[str] = Counter()  # path -> requests received
        self.delivered: dict[str, list[dict]] = {"/sms": [], "/zns": [], "/dvcqg": []}
        self.keys: dict[str, Counter] = {path: Counter() for path in self.delivered}
        self.problems: list[str] = []
        self.zns_error: int | None = None  # answer ZNS with this error code (e.g. -118)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def _key(self, path: str, body: dict, headers) -> str:
        if path == "/sms":
            return body.get("request_id", "")
        if path == "/zns":
            return body.get("tracking_id", "")
        return headers.get("Idempotency-Key", "")

    def _check(self, path: str, body: dict, headers) -> list[str]:
        found = []
        if path == "/dvcqg":
            validator = Draft202012Validator(schema())
            found = [error.message for error in validator.iter_errors(body)]
            if not headers.get("Authorization", "").startswith("Bearer "):
                found.append("no bearer token")
        elif path == "/sms":
            for name in ("brandname", "phone", "message", "request_id"):
                if not body.get(name):
                    found.append(f"sms: {name} missing")
            if len(body.get("message", "")) > 400:
                found.append("sms: longer than 400 characters")
            if not str(body.get("phone", "")).startswith("84"):
                found.append("sms: phone not in 84… form")
        elif path == "/zns":
            for name in ("phone", "template_id", "template_data", "tracking_id"):
                if not body.get(name):
                    found.append(f"zns: {name} missing")
            if not headers.get("access_token"):
                found.append("zns: no access_token header")
        text = json.dumps(body, ensure_ascii=False)
        # No identity number (12 digits in a row) in anything sent out.
        import re

        if re.search(r"(?<!\d)\d{12}(?!\d)", text):
            found.append(f"{path}: a 12-digit number was sent")
        return found

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body: dict):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self):
                path = self.path
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with fake.lock:
                    fake.requests[path] += 1
                    mode = fake.mode
                    if mode == "flaky":
                        mode = "down" if fake.random.random() < fake.flaky_rate else "ok"
                if mode == "down":
                    return self._answer(503, {"error": "unavailable"})
                if mode == "timeout":
                    time.sleep(fake.delay)
                    return self._answer(504, {"error": "late"})
                problems = fake._check(path, body, self.headers)
                if problems:
                    with fake.lock:
                        fake.problems.extend(problems)
                    return self._answer(400, {"error_code": 1, "message": "; ".join(problems)})
                if path == "/zns" and fake.zns_error is not None:
                    return self._answer(200, {"error": fake.zns_error, "message": "not a Zalo user"})
                key = fake._key(path, body, self.headers)
                with fake.lock:
                    duplicate = fake.keys[path][key] > 0
                    fake.keys[path][key] += 1
                    if not duplicate:
                        fake.delivered[path].append(body)
                if mode == "timeout_after_accept":
                    time.sleep(fake.delay)
                if path == "/zns":
                    return self._answer(200, {"error": 0, "message": "Success", "data": {"msg_id": key}})
                if path == "/sms":
                    return self._answer(200, {"status": "duplicate" if duplicate else "accepted", "id": key})
                return self._answer(200, {"error_code": 0, "message": "OK"})

        return Handler
