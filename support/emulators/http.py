"""The small HTTP machinery the WhatsApp and SMS emulators share.

A threaded HTTP/1.1 server on 127.0.0.1 (port chosen by the OS) with keep-alive, so a pool of
clients can push hundreds of messages per second, and the faults a real network has, injected
from Python: 5xx, dropped connections, slow or hanging answers, stalls (requests accepted,
answers held) and a rate limit. A provider's emulator subclasses `HttpEmulator` and writes its
own answers (`handle`, `_server_error`, `_rate_limit_reply`).
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """What the emulator answers: a status, a JSON-able body (or raw bytes) and headers."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class _Drop:
    """Close the socket without answering (optionally after hanging for a while)."""

    def __init__(self, hang: float = 0.0) -> None:
        self.hang = hang


@dataclass
class Request:
    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 512

    emulator: HttpEmulator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EmulatorHTTP/1.0"
    timeout = 30  # idle keep-alive connections are closed after this many seconds
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.emulator._connection_opened()

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header, shifted by the emulator's `clock_offset` (a server whose clock
        is wrong, for the diagnostic's clock check)."""
        now = time.time() if timestamp is None else timestamp
        return super().date_time_string(now + self.server.emulator.clock_offset)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default stderr access log."""

    def _serve(self) -> None:
        emulator = self.server.emulator
        emulator._request_started()
        try:
            self._answer()
        finally:
            emulator._request_finished()

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        request = Request(self.command, self.path, self.headers, body)
        outcome = self.server.emulator._dispatch(request)
        if isinstance(outcome, _Drop):
            if outcome.hang:
                time.sleep(outcome.hang)
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._write(outcome)

    def _write(self, reply: Reply) -> None:
        if isinstance(reply.body, bytes | bytearray):
            payload = bytes(reply.body)
            content_type = reply.headers.get("Content-Type", "text/html; charset=utf-8")
        elif reply.body is None:
            payload = b""
            content_type = "application/json"
        else:
            payload = json.dumps(reply.body, ensure_ascii=False).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        self.send_response(reply.status)
        headers = {"Content-Type": content_type, **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_POST = _serve
    do_GET = _serve
    do_PUT = _serve
    do_DELETE = _serve


class _RateLimiter:
    """Token bucket on the server side: `allow()` says whether one more request fits."""

    def __init__(self, rate: float, burst: float | None) -> None:
        self.rate = float(rate)
        self.capacity = float(burst if burst is not None else max(1.0, rate))
        self.tokens = self.capacity
        self.last = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class _Faults:
    rate_5xx: float = 0.0
    rate_timeout: float = 0.0
    burst_rate_limit: float = 0.0
    burst_length: int = 10
    hang_seconds: float = 1.0
    rng: random.Random = field(default_factory=random.Random)
    rate_lost: float = 0.0


class HttpEmulator(ABC):
    """Base class: threading HTTP/1.1 server, latency, server-side rate limit, fault injection.

    Subclasses implement `handle(request) -> Reply` and the provider-specific error bodies
    (`_scripted_error`, `_server_error`, `_rate_limit_reply`).
    """

    default_path_prefix = ""

    def __init__(
        self,
        *,
        latency: float = 0.0,
        rate_limit: float | None = None,
        rate_burst: float | None = None,
    ) -> None:
        self.latency = latency
        self.clock_offset = 0.0  # seconds added to the `Date` header of every answer
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._scripted: deque[tuple[str, Any]] = deque()
        self._faults = _Faults()
        self._burst_left = 0
        self._stall_until = 0.0
        self.set_rate_limit(rate_limit, rate_burst)
        self.in_flight = 0  # requests received and not yet answered
        self._reset_counters()

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> HttpEmulator:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.emulator = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
            name=f"{type(self).__name__}-{server.server_address[1]}",
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- configuration ----------------------------------------------------------------------

    def set_rate_limit(self, rate: float | None, burst: float | None = None) -> None:
        """Accept at most `rate` requests per second (bucket of `burst`, default one second)."""
        with self._lock:
            self.rate_limit = rate
            self._limiter = _RateLimiter(rate, burst) if rate else None

    def faults(
        self,
        *,
        rate_5xx: float = 0.0,
        rate_timeout: float = 0.0,
        burst_130429: float = 0.0,
        burst_length: int = 10,
        hang_seconds: float = 1.0,
        seed: int | None = None,
        rate_lost: float = 0.0,
    ) -> None:
        """Random faults: each request fails with a 5xx with probability `rate_5xx`; hangs
        `hang_seconds` then loses its connection (never processed) with `rate_timeout`; is
        processed and then loses its connection (the answer is lost, the message accepted)
        with `rate_lost`; starts a run of `burst_length` rate-limit answers with
        `burst_130429`. All zero turns them off."""
        with self._lock:
            self._faults = _Faults(
                rate_5xx, rate_timeout, burst_130429, burst_length, hang_seconds,
                random.Random(seed), rate_lost,
            )
            self._burst_left = 0

    def drop_next(self, n: int = 1, *, after_accept: bool = False) -> None:
        """Close the connection without answering for the next `n` requests. By default the
        request is not processed; with `after_accept=True` it is processed (and recorded) and
        only the answer is lost, like a network cut on the way back."""
        self._script("drop_after" if after_accept else "drop", n, None)

    def delay_next(self, n: int, seconds: float) -> None:
        """Add `seconds` to the next `n` answers (the request is then processed normally)."""
        self._script("delay", n, seconds)

    def hang_next(self, n: int, seconds: float) -> None:
        """Hang `seconds` then drop the connection, without processing, for the next `n`."""
        self._script("hang", n, seconds)

    def stall(self, seconds: float) -> None:
        """For the next `seconds`, process every request (messages are accepted) but hold its
        answer until the stall is over: clients with a shorter timeout lose the answer."""
        with self._lock:
            self._stall_until = time.monotonic() + seconds

    def clear_script(self) -> None:
        """Forget the scripted faults not used yet (`drop_next`, `delay_next`, `hang_next`)."""
        with self._lock:
            self._scripted.clear()

    def _script(self, kind: str, n: int, payload: Any) -> None:
        with self._lock:
            self._scripted.extend((kind, payload) for _ in range(n))

    def reset(self) -> None:
        """Forget recorded messages, counters, scripted and random faults (keep configuration)."""
        with self._lock:
            self._scripted.clear()
            self._faults = _Faults()
            self._burst_left = 0
            self._stall_until = 0.0
            self._reset_counters()
            self._reset_records()

    def _connection_opened(self) -> None:
        with self._lock:
            self.connections += 1

    def _request_started(self) -> None:
        with self._lock:
            self.in_flight += 1

    def _request_finished(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _reset_counters(self) -> None:
        self.connections = 0  # TCP connections accepted (keep-alive keeps this low)
        self.requests_total = 0
        self.status_counts: Counter[int] = Counter()
        self.dropped = 0
        self.rate_limited = 0
        self._reset_records()

    def _reset_records(self) -> None:  # noqa: B027 - optional hook, empty by default
        """Subclasses clear their records here."""

    # -- request flow -----------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Reply | _Drop:
        fault: tuple[str, Any] | None = None
        with self._lock:
            self.requests_total += 1
            fault = self._scripted.popleft() if self._scripted else self._random_fault()
        if self.latency:
            time.sleep(self.latency)
        kind, payload = fault if fault else (None, None)
        if kind in ("drop", "hang"):
            with self._lock:
                self.dropped += 1
            return _Drop(hang=payload or 0.0)
        if kind == "delay":
            time.sleep(payload)
        if kind == "reply":
            reply: Reply = payload
        elif kind == "burst":
            reply = self._rate_limit_reply()
            with self._lock:
                self.rate_limited += 1
        else:
            reply = self.handle(request)
        with self._lock:
            stalled = self._stall_until - time.monotonic()
        if stalled > 0:
            time.sleep(stalled)
        with self._lock:
            self.status_counts[reply.status] += 1
        if kind == "drop_after":
            with self._lock:
                self.dropped += 1
            return _Drop()
        return reply

    def _random_fault(self) -> tuple[str, Any] | None:
        """Called with the lock held."""
        f = self._faults
        if self._burst_left > 0:
            self._burst_left -= 1
            return ("burst", None)
        if not (f.rate_5xx or f.rate_timeout or f.burst_rate_limit or f.rate_lost):
            return None
        roll = f.rng.random()
        if roll < f.rate_timeout:
            return ("hang", f.hang_seconds)
        roll -= f.rate_timeout
        if roll < f.rate_lost:
            return ("drop_after", None)
        roll -= f.rate_lost
        if roll < f.rate_5xx:
            return ("reply", self._server_error(f.rng.choice((500, 502, 503))))
        roll -= f.rate_5xx
        if roll < f.burst_rate_limit:
            self._burst_left = max(0, f.burst_length - 1)
            return ("burst", None)
        return None

    def check_rate(self) -> bool:
        """True when this request fits in the rate limit (subclasses call it after auth)."""
        with self._lock:
            if self._limiter is None or self._limiter.allow():
                return True
            self.rate_limited += 1
            return False

    # -- provider specifics -----------------------------------------------------------------

    @abstractmethod
    def handle(self, request: Request) -> Reply:
        """Provider-specific answer."""

    @abstractmethod
    def _server_error(self, status: int) -> Reply:
        """Provider-specific answer."""

    @abstractmethod
    def _rate_limit_reply(self) -> Reply:
        """Provider-specific answer."""
