"""Per-client sliding-window limit on form posts, with bounded memory."""

from __future__ import annotations

import ipaddress
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


def client_key(address: str) -> str:
    """The key a client is counted under: its IPv4 address, or its IPv6 /64 network (one
    household or phone gets a whole /64, and can pick any address in it)."""
    text = (address or "").strip()
    try:
        ip = ipaddress.ip_address(text.strip("[]").split("%")[0])
    except ValueError:
        return text or "inconnu"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class SlidingWindowLimiter:
    """Allow at most `limit` events per `window` seconds per client key.

    Memory is bounded: each client keeps at most `limit` timestamps, and at most `max_clients`
    clients are tracked (the least recently seen are forgotten first, after expired ones).
    Thread-safe.
    """

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.window = window
        self.max_clients = max(1, max_clients)
        self._clock = clock
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Record one event for `key`; return 0 if allowed, else seconds until it would be."""
        with self._lock:
            now = self._clock()
            hits = self._hits.get(key)
            if hits is None:
                self._make_room(now)
                hits = self._hits[key] = deque(maxlen=self.limit)
            else:
                self._hits.move_to_end(key)
            self._expire(hits, now)
            if len(hits) >= self.limit:
                return max(hits[0] + self.window - now, 0.001)
            hits.append(now)
            return 0.0

    def retry_after(self, wait: float) -> int:
        """Whole seconds for a `Retry-After` header (at least 1)."""
        return max(1, math.ceil(wait))

    def __len__(self) -> int:
        return len(self._hits)

    def _expire(self, hits: deque[float], now: float) -> None:
        while hits and hits[0] <= now - self.window:
            hits.popleft()

    def _make_room(self, now: float) -> None:
        if len(self._hits) < self.max_clients:
            return
        for key in [k for k, h in self._hits.items() if not h or h[-1] <= now - self.window]:
            del self._hits[key]
        while len(self._hits) >= self.max_clients:
            self._hits.popitem(last=False)
