"""A small, bounded HTTP load generator for loopback benchmarks and load tests.

Each client is a thread with its own keep-alive connection and its own logged-in session, so
the server sees real users. Runs stop by themselves after `duration` seconds or `requests`
requests, whichever comes first. Only loopback addresses are accepted.
"""

from __future__ import annotations

import http.client
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

LOOPBACK = ("127.", "localhost", "[::1]")


@dataclass
class Session:
    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    conn: http.client.HTTPConnection | None = None
    # Sent with every request (e.g. an API client's Authorization header).
    headers: dict[str, str] = field(default_factory=dict)

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        return self.conn

    def request(self, method: str, path: str, form: dict | bytes | None = None) -> tuple[int, bytes]:
        """``form``: a dict is posted as a form (with the CSRF token), bytes as a JSON body."""
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), **self.headers}
        body = None
        if isinstance(form, bytes):
            body = form
            headers["Content-Type"] = "application/json"
        elif form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            headers["Referer"] = f"http://{self.host}:{self.port}/"
        for attempt in (1, 2):
            try:
                conn = self._connection()
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException):
                self.close()
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, data

    def login(self, username: str, password: str) -> None:
        status, page = self.request("GET", "/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        form = {"username": username, "password": password}
        if token:
            form["csrfmiddlewaretoken"] = token.group(1).decode()
        status, _ = self.request("POST", "/login/", form)
        if status != 302:
            raise RuntimeError(f"login as {username} failed with HTTP {status}")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank p-th percentile (NaN for no values)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Result:
    latencies_ms: list[float]
    statuses: Counter
    seconds: float

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500 or status == 0)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        return percentile(self.latencies_ms, p)

    def summary(self) -> dict:
        return {
            "requests": self.requests,
            "seconds": round(self.seconds, 2),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "mean_ms": round(statistics.fmean(self.latencies_ms), 1) if self.latencies_ms else None,
            "errors": self.errors,
            "statuses": dict(self.statuses),
        }


Step = Callable[[Session, int], tuple[str, str, dict | bytes | None]]


def run(
    base_url: str,
    *,
    clients: int,
    step: Step,
    login: tuple[str, str] | None = None,
    duration: float = 30.0,
    requests: int | None = None,
    warmup: str | None = None,
    headers: dict[str, str] | None = None,
) -> Result:
    """Run `clients` threads; each calls step(session, i) for its i-th request.

    ``warmup``: a path each client GETs after logging in, before the clock starts, so that the
    server's first-request costs (connections, template loading) are not in the figures.
    """
    parts = urlsplit(base_url)
    if not parts.hostname or (not parts.hostname.startswith(LOOPBACK) and parts.hostname != "::1"):
        raise ValueError("load runs only against loopback addresses")
    latencies: list[float] = []
    statuses: Counter = Counter()
    lock = threading.Lock()
    budget = [requests if requests is not None else 10**9]
    # Logging in (a password hash each) is not part of the measured run: every client logs in,
    # then all start together and the clock starts.
    deadline = [0.0]
    started_at = [0.0]

    def start_clock() -> None:
        started_at[0] = time.perf_counter()
        deadline[0] = time.monotonic() + duration

    ready = threading.Barrier(clients + 1, action=start_clock)

    def client(index: int) -> None:
        session = Session(parts.hostname, parts.port or 80, headers=dict(headers or {}))
        try:
            if login:
                session.login(*login)
            if warmup:
                session.request("GET", warmup)
        finally:
            ready.wait()
        i = 0
        while time.monotonic() < deadline[0]:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            method, path, form = step(session, index * 1_000_000 + i)
            started = time.perf_counter()
            try:
                status, _ = session.request(method, path, form)
            except OSError:
                status = 0
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1
            i += 1
        session.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    ready.wait()
    for thread in threads:
        thread.join(timeout=duration + 120)
    return Result(latencies, statuses, time.perf_counter() - started_at[0])
