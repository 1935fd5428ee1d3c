"""What every channel shares: the message and result types, typed errors, throttling and retries.

An adapter implements `_send_once` (one HTTP call or one write). `Channel.deliver` wraps it with
the token bucket and the retry policy, so adapters never sleep or loop themselves.

A request whose answer is lost after it left (timeout while waiting, connection cut) raises
`UncertainError`: the provider may have accepted it, and neither API has an idempotency key, so
`deliver` never repeats it; the dispatcher decides (see `dispatch/decisions.py`).
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum

from sender.errors import AlerteError, RetryPolicy


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    alert_id: str
    numero: str  # E.164, with the plus sign
    text: str  # the full text (SMS, outbox, preview)
    template: str | None = None  # approved WhatsApp template name
    language: str = "fr"
    parameters: Mapping[str, str] = field(default_factory=dict)  # named body parameters
    button_payload: str | None = None  # payload of the template's quick-reply button
    callback: str | None = None  # echoed by WhatsApp status webhooks (`biz_opaque_callback_data`)


@dataclass(frozen=True, slots=True)
class SendResult:
    channel: str
    message_id: str
    wa_id: str | None = None
    segments: int | None = None


class Scope(Enum):
    RETRY = "retry"  # try this recipient again later
    RECIPIENT = "recipient"  # give up for this recipient, carry on with the others
    BATCH = "batch"  # stop the whole dispatch (token, account, template problem)
    UNCERTAIN = "uncertain"  # the request left, its answer was lost: it may have been accepted


class ChannelError(AlerteError):
    """A send failed. `scope` says what the dispatcher should do; `message` is for the officer."""

    scope: Scope = Scope.RECIPIENT

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        retry_after: float | None = None,
        try_sms: bool = False,
        final: bool = True,
        suspect: str | None = None,
    ) -> None:
        super().__init__(message, retryable=self.scope is Scope.RETRY)
        self.code = code
        self.retry_after = retry_after
        self.try_sms = try_sms
        # A recipient error is `final` when it is about this member (no WhatsApp, opted out…):
        # putting the alert back to « à diffuser » does not send to them again. Errors that may
        # come from a setting (wrong address, wrong number id, template parameters) are not.
        self.final = final
        # When the same error repeated for many members means a configuration problem, the
        # French likely cause for the officer (the dispatcher's circuit breaker stops on it).
        self.suspect = suspect


class RetryableError(ChannelError):
    scope = Scope.RETRY


class RateLimited(RetryableError):
    """The provider says we go too fast: the throttle slows down before the retry."""


class RecipientError(ChannelError):
    scope = Scope.RECIPIENT


class BatchStopError(ChannelError):
    scope = Scope.BATCH


class UncertainError(ChannelError):
    """The request left but its answer was lost: the message may have been accepted."""

    scope = Scope.UNCERTAIN


class TokenBucket:
    """Thread-safe token bucket; `slow_down` halves the rate after a 429, which then recovers."""

    def __init__(self, rate: float, burst: float | None = None, *, clock=time.monotonic) -> None:
        self.max_rate = float(rate)
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate / 10))
        self._tokens = self.burst
        self._clock = clock
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Block until one token is available."""
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            time.sleep(wait)

    def slow_down(self) -> None:
        with self._lock:
            self.rate = max(self.max_rate / 16, self.rate / 2)
            self._tokens = min(self._tokens, 0.0)

    def speed_up(self) -> None:
        """Called after successes: creep back towards the nominal rate."""
        with self._lock:
            if self.rate < self.max_rate:
                self.rate = min(self.max_rate, self.rate * 1.05 + 0.1)


class Channel(ABC):
    """A way to reach a member. Subclasses implement `_send_once`; `deliver` adds the rest."""

    name: str = "canal"

    def __init__(
        self,
        *,
        rate_per_second: float = 80.0,
        timeout: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.timeout = timeout
        self.bucket = TokenBucket(rate_per_second)
        self.retry = retry or RetryPolicy()
        self._sleep = sleep

    @abstractmethod
    def _send_once(self, message: OutgoingMessage) -> SendResult:
        """Make exactly one attempt; raise a ChannelError subclass on failure."""

    def deliver(
        self,
        message: OutgoingMessage,
        on_retry: Callable[[ChannelError], None] | None = None,
    ) -> SendResult:
        """Send with throttling and bounded retries; raise the last error when giving up.

        Only errors the provider answered (rate limits, 5xx) or requests that never left are
        retried here; an `UncertainError` is raised at once (never a blind resend)."""
        return self.retrying(lambda: self._send_once(message), on_retry)

    def retrying(
        self,
        once: Callable[[], SendResult],
        on_retry: Callable[[ChannelError], None] | None = None,
    ) -> SendResult:
        """Run `once` (one request) with the token bucket and the retry policy."""
        attempt = 0
        while True:
            attempt += 1
            self.bucket.acquire()
            try:
                result = once()
            except RetryableError as error:
                if isinstance(error, RateLimited):
                    self.bucket.slow_down()
                if attempt >= self.retry.max_attempts:
                    raise
                if on_retry is not None:
                    on_retry(error)
                self._sleep(self.retry.delay(attempt, error.retry_after))
                continue
            self.bucket.speed_up()
            return result

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
