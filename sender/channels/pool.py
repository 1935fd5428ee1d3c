"""A keep-alive HTTP/1.1 connection pool on `http.client`, for the channels' POSTs.

Two reasons for not using `requests` here (docs/architecture.md, "Exactly once"):

- it costs about 0.6 ms of CPU per request against 0.1 ms for `http.client`, which decides
  whether one process can send 1,000 messages per second (Meta's top throughput);
- a channel must know whether a failed request left the machine. `post` raises `NotSent` when
  the request was not completely written (connection refused, DNS, connect timeout, cut while
  sending): the server cannot have acted on it and it may be sent again. It raises `AnswerLost`
  when the request was written and its answer did not come back (read timeout, connection cut
  or closed): the server may have accepted it.

A connection idle for `idle_seconds` or closed by the server is discarded before it is reused,
so that a server closing idle keep-alive connections does not turn into lost answers.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
import ssl
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

USER_AGENT = "alerte-message"


class NotSent(Exception):
    """The request was not completely written: the server cannot have acted on it."""


class AnswerLost(Exception):
    """The request was written; its answer was lost (timeout, connection cut)."""


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]  # case-insensitive (`http.client.HTTPMessage`)
    body: bytes

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return None


def _tls_context() -> ssl.SSLContext:
    try:
        import certifi  # installed with requests; the same CA bundle as before
    except ImportError:  # pragma: no cover - certifi always comes with requests
        return ssl.create_default_context()
    return ssl.create_default_context(cafile=certifi.where())


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """True when the server closed (or wrote on) an idle connection: do not reuse it."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


class ConnectionPool:
    """Thread-safe pool of keep-alive connections to one URL (`post` only)."""

    def __init__(
        self, url: str, *, size: int = 64, timeout: float = 10.0, idle_seconds: float = 15.0
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"adresse HTTP invalide : {url!r}")
        self.url = url
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.size = size
        self.timeout = timeout
        self.idle_seconds = idle_seconds
        self._idle: list[tuple[http.client.HTTPConnection, float]] = []
        self._lock = threading.Lock()
        self._context = _tls_context() if self.https else None
        self._proxy = self._https_proxy() if self.https else None

    def _https_proxy(self) -> tuple[str, int] | None:
        """The HTTPS proxy of the environment (`https_proxy`, `no_proxy`), as `requests` did."""
        proxy = urllib.request.getproxies().get("https")
        if not proxy or urllib.request.proxy_bypass(self.host):
            return None
        parts = urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        if not parts.hostname:
            return None
        return parts.hostname, parts.port or 8080

    # -- connections -----------------------------------------------------------------------

    def _new(self) -> http.client.HTTPConnection:
        if self.https:
            if self._proxy is not None:
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                    *self._proxy, timeout=self.timeout, context=self._context
                )
                conn.set_tunnel(self.host, self.port)
            else:
                conn = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=self._context
                )
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.connect()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise NotSent(type(exc).__name__) from exc
        if conn.sock is not None:
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def _take(self) -> http.client.HTTPConnection:
        now = time.monotonic()
        while True:
            with self._lock:
                if not self._idle:
                    break
                conn, since = self._idle.pop()
            if now - since < self.idle_seconds and not _dropped(conn):
                return conn
            conn.close()
        return self._new()

    def _give_back(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._idle) < self.size:
                self._idle.append((conn, time.monotonic()))
                return
        conn.close()

    # -- requests --------------------------------------------------------------------------

    def post(self, body: bytes, headers: Mapping[str, str]) -> HttpAnswer:
        """One POST of `body`; raises `NotSent` or `AnswerLost` (see the module docstring)."""
        conn = self._take()
        all_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers}
        try:
            conn.request("POST", self.target, body, all_headers)
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise NotSent(type(exc).__name__) from exc
        try:
            response = conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise AnswerLost(type(exc).__name__) from exc
        answer = HttpAnswer(response.status, response.headers, data)
        if response.will_close:
            conn.close()
        else:
            self._give_back(conn)
        return answer

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            conn.close()
