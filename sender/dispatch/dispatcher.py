"""Send one alert to every targeted member, exactly once, resumably, with bounded memory.

`Dispatcher.dispatch(alert_id, recipients, compose)`:

1. takes the alert's lease in the journal (another live owner → nothing is sent);
2. walks the recipients in chunks: those already `sent` or `failed` are counted, not resent;
   the daily limit routes the others (primary channel, SMS instead, or `deferred`);
3. claims recipients (`pending`) just before submitting them to a thread pool, never more than
   `2 × concurrency` outstanding sends, and records each result just after it (group commit);
4. a recipient error with `try_sms` goes to the fallback SMS channel; a batch error stops new
   submissions, lets in-flight sends finish and be recorded;
5. releases the lease, even on exceptions, and returns a `DispatchReport`.

`compose(channel_name, recipient)` builds the message for a channel, so the SMS fallback can use
the SMS text while WhatsApp uses the approved template (see `AlertMessages`).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from types import MappingProxyType

from rich.console import Console

from sender.channels.base import Channel, ChannelError, OutgoingMessage, Scope
from sender.dispatch.journal import (
    DEFERRED,
    FAILED,
    GAVE_UP,
    SENT,
    Journal,
    JournalError,
    LeaseLost,
    Outcome,
)
from sender.dispatch.progress import ProgressView
from sender.dispatch.quota import FALLBACK, PRIMARY, DailyQuota, check_policy
from sender.dispatch.report import BUSY_REASON, DispatchReport
from sender.errors import AlerteError, ConfigurationError
from sender.phones import mask_phone

log = logging.getLogger(__name__)

Compose = Callable[[str, str], OutgoingMessage]
"""`compose(channel_name, recipient)` → the message to send on that channel."""

LOOKUP_CHUNK = 500  # recipients read from the journal at a time
LEASE_LOST_REASON = (
    "le verrou d'envoi de l'alerte a été perdu (un autre processus a pu reprendre l'envoi) ; "
    "les messages restants partiront au prochain cycle"
)
_PHONE_LIKE = re.compile(r"\+?\d[\d .]{7,}\d")


def _mask_numbers(text: str) -> str:
    """Mask anything that looks like a phone number in a text bound for logs or the register."""
    return _PHONE_LIKE.sub(lambda m: mask_phone(m.group(0)), text)


def _owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _dead_local_owner(owner: str) -> bool:
    """True if `owner` names a process of this host that no longer exists."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdigit():
        return False
    pid = int(parts[1])
    if pid == os.getpid():
        return False  # another dispatcher of this very process: alive
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, owned by someone else
    return False


@dataclass(frozen=True)
class AlertMessages:
    """A ready-made `compose`: the WhatsApp template for WhatsApp, plain text elsewhere.

    `sms_text` (if given) replaces `text` on the `sms` channel, e.g. a shorter GSM-7 version.
    """

    alert_id: str
    text: str
    sms_text: str | None = None
    template: str | None = None
    language: str = "fr"
    parameters: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    def __call__(self, channel: str, recipient: str) -> OutgoingMessage:
        if channel == "sms":
            return OutgoingMessage(self.alert_id, recipient, self.sms_text or self.text)
        return OutgoingMessage(
            self.alert_id,
            recipient,
            self.text,
            template=self.template,
            language=self.language,
            parameters=self.parameters,
        )


@dataclass(frozen=True, slots=True)
class _Attempt:
    outcome: Outcome
    via_fallback: bool = False
    stop_reason: str | None = None  # set when the whole batch must stop


class _Heartbeat(threading.Thread):
    """Renews the lease every third of its lifetime; flags `lost` if another owner took it."""

    def __init__(self, journal: Journal, alert_id: str, owner: str, ttl: float) -> None:
        super().__init__(name=f"bail-{alert_id}", daemon=True)
        self.journal, self.alert_id, self.owner, self.ttl = journal, alert_id, owner, ttl
        self.lost = False
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.ttl / 3):
            try:
                if not self.journal.renew(self.alert_id, self.owner, self.ttl):
                    self.lost = True
                    return
            except JournalError as exc:  # transient: the claim check will catch a real loss
                log.warning("Renouvellement du verrou impossible : %s", exc.message)

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join()


class Dispatcher:
    """Sends alerts through `channel` (and `fallback` for SMS) while keeping the journal."""

    def __init__(
        self,
        journal: Journal,
        channel: Channel,
        *,
        fallback: Channel | None = None,
        concurrency: int = 32,
        daily_limit: int | None = None,
        over_limit_policy: str = "reporter",
        progress: bool | None = None,
        console: Console | None = None,
        lease_seconds: float = 120.0,
    ) -> None:
        if concurrency < 1:
            raise ConfigurationError(
                f"La concurrence d'envoi doit valoir au moins 1 (reçu {concurrency})."
            )
        if daily_limit is not None and daily_limit < 0:
            raise ConfigurationError(f"Le plafond journalier ne peut être négatif ({daily_limit}).")
        self.journal = journal
        self.channel = channel
        self.fallback = fallback
        self.concurrency = concurrency
        self.daily_limit = daily_limit
        self.over_limit_policy = check_policy(over_limit_policy)
        self.console = console if console is not None else Console(highlight=False)
        self.progress = self.console.is_terminal if progress is None else progress
        self.lease_seconds = lease_seconds
        self.max_outstanding = 2 * concurrency
        self.peak_outstanding = 0  # largest number of submitted, unrecorded sends (for tests)

    # -- public ----------------------------------------------------------------------------

    def dispatch(
        self, alert_id: str, recipients: Iterable[str], compose: Compose
    ) -> DispatchReport:
        """Send the alert to every recipient (E.164) not yet served; see the module docstring."""
        started = time.monotonic()
        targets = list(dict.fromkeys(r for r in recipients if r))
        report = DispatchReport(alert_id, recipients=len(targets))
        view = ProgressView(self.console, fancy=self.progress)
        owner = _owner_id()
        if not self._acquire(alert_id, owner):
            report.busy = True
            report.stopped_reason = BUSY_REASON
            log.info("Alerte %s : %s.", alert_id, BUSY_REASON)
            self._tally(alert_id, targets, report, view)
            report.elapsed = time.monotonic() - started
            view.finish(report)
            return report
        log.info("Alerte %s : envoi à %d destinataire(s).", alert_id, len(targets))
        heartbeat = _Heartbeat(self.journal, alert_id, owner, self.lease_seconds)
        heartbeat.start()
        view.start(alert_id, len(targets))
        try:
            self._run(alert_id, owner, targets, compose, report, view, heartbeat)
        finally:
            heartbeat.stop()
            view.stop()
            try:
                self.journal.release(alert_id, owner)
            except JournalError as exc:  # the lease expires by itself
                log.warning("Alerte %s : verrou non libéré (%s).", alert_id, exc.message)
        report.elapsed = time.monotonic() - started
        log.info("%s", report.summary_line())
        view.finish(report)
        return report

    def _acquire(self, alert_id: str, owner: str) -> bool:
        """Take the lease; also from a dead process of this host (crash, `kill -9`)."""
        if self.journal.acquire(alert_id, owner, self.lease_seconds):
            return True
        holder = self.journal.holder(alert_id)
        if holder is None or not _dead_local_owner(holder):
            return False
        log.warning("Alerte %s : reprise du verrou d'un processus arrêté (%s).", alert_id, holder)
        return self.journal.acquire(alert_id, owner, self.lease_seconds, replace=holder)

    # -- planning --------------------------------------------------------------------------

    def _quota(self) -> DailyQuota | None:
        if self.daily_limit is None:
            return None
        return DailyQuota(
            self.journal,
            self.channel.name,
            self.daily_limit,
            policy=self.over_limit_policy,
            has_fallback=self.fallback is not None,
        )

    def _plan(
        self,
        alert_id: str,
        chunk: Sequence[str],
        quota: DailyQuota | None,
        planned: deque[tuple[str, str]],
        report: DispatchReport,
        view: ProgressView,
    ) -> list[str]:
        """Count recipients already settled, queue those to send; return those to defer."""
        known = self.journal.lookup(alert_id, chunk)
        deferred: list[str] = []
        settled = 0
        for recipient in chunk:
            entry = known.get(recipient)
            if entry is not None and entry.state == SENT:
                report.sent += 1
                settled += 1
                continue
            if entry is not None and entry.state == FAILED:
                report.failed += 1
                report.add_failure(entry.error_text)
                settled += 1
                continue
            route = PRIMARY if quota is None else quota.route(recipient)
            if route is None:
                deferred.append(recipient)
            else:
                planned.append((recipient, route))
        view.advance(settled)
        return deferred

    # -- sending ---------------------------------------------------------------------------

    def _send(self, recipient: str, route: str, compose: Compose) -> _Attempt:
        """Runs in a worker thread: one recipient, never raises an ordinary exception."""
        channel = self.channel if route == PRIMARY else self.fallback
        assert channel is not None
        try:
            result = channel.deliver(compose(channel.name, recipient))
        except ChannelError as error:
            to_sms = error.scope is Scope.RECIPIENT and error.try_sms and route == PRIMARY
            if to_sms and self.fallback is not None:
                return self._send_fallback(recipient, compose, error)
            return self._failure(recipient, channel, error, fallback=route == FALLBACK)
        except AlerteError as error:  # e.g. compose refused the text: nothing was sent
            return _Attempt(
                Outcome(
                    recipient,
                    FAILED,
                    channel.name,
                    error_code=type(error).__name__,
                    error_text=_mask_numbers(error.message),
                )
            )
        except Exception as error:  # a bug in an adapter: stop rather than guess
            log.exception(
                "Erreur inattendue du canal %s pour %s", channel.name, mask_phone(recipient)
            )
            reason = (
                f"erreur inattendue du canal {channel.name} ({type(error).__name__}) : "
                "consulter le journal technique"
            )
            return _Attempt(
                Outcome(
                    recipient,
                    GAVE_UP,
                    channel.name,
                    error_code=type(error).__name__,
                    error_text=reason,
                ),
                stop_reason=reason,
            )
        return _Attempt(
            Outcome(recipient, SENT, channel.name, result.message_id, result.wa_id),
            via_fallback=route == FALLBACK,
        )

    def _send_fallback(self, recipient: str, compose: Compose, first: ChannelError) -> _Attempt:
        assert self.fallback is not None
        log.info("Secours SMS pour %s (%s).", mask_phone(recipient), first.code or "")
        try:
            result = self.fallback.deliver(compose(self.fallback.name, recipient))
        except AlerteError as error:
            state = FAILED
            if isinstance(error, ChannelError) and error.scope is not Scope.RECIPIENT:
                state = GAVE_UP  # the SMS gateway may come back: retry at the next dispatch
            text = f"{first.message} ; SMS de secours impossible : {error.message}"
            code = getattr(error, "code", None) or type(error).__name__
            return _Attempt(
                Outcome(
                    recipient,
                    state,
                    self.fallback.name,
                    error_code=code,
                    error_text=_mask_numbers(text),
                )
            )
        return _Attempt(
            Outcome(recipient, SENT, self.fallback.name, result.message_id, result.wa_id),
            via_fallback=True,
        )

    def _failure(
        self, recipient: str, channel: Channel, error: ChannelError, *, fallback: bool
    ) -> _Attempt:
        code = error.code or type(error).__name__
        text = _mask_numbers(error.message)
        if error.scope is Scope.BATCH and not fallback:
            return _Attempt(
                Outcome(recipient, GAVE_UP, channel.name, error_code=code, error_text=text),
                stop_reason=text,
            )
        state = FAILED if error.scope is Scope.RECIPIENT else GAVE_UP
        log.info("Échec %s pour %s : %s", channel.name, mask_phone(recipient), code)
        return _Attempt(Outcome(recipient, state, channel.name, error_code=code, error_text=text))

    # -- main loop -------------------------------------------------------------------------

    def _collect(
        self,
        alert_id: str,
        outstanding: dict[Future, tuple[str, str]],
        report: DispatchReport,
        view: ProgressView,
        *,
        block: bool,
    ) -> str | None:
        """Record finished sends (one transaction); return a batch-stop reason if any."""
        if not outstanding:
            return None
        if block:
            done, _ = wait(list(outstanding), return_when=FIRST_COMPLETED)
        else:
            done = {f for f in outstanding if f.done()}
        attempts: list[_Attempt] = []
        interrupt: BaseException | None = None
        for future in done:
            del outstanding[future]
            if future.cancelled():
                continue
            try:
                attempts.append(future.result())
            except BaseException as exc:  # KeyboardInterrupt/SystemExit raised in a worker
                interrupt = interrupt or exc
        if attempts:
            self.journal.record(alert_id, [a.outcome for a in attempts])
        stop = None
        for attempt in attempts:
            outcome = attempt.outcome
            if outcome.state == SENT:
                report.sent += 1
                report.sent_now += 1
                report.sent_by_fallback += attempt.via_fallback
            elif outcome.state == FAILED:
                report.failed += 1
                report.add_failure(outcome.error_text)
            else:
                report.not_sent += 1
                if attempt.stop_reason is None:
                    report.add_failure(outcome.error_text)
            stop = stop or attempt.stop_reason
        view.advance(len(attempts))
        if interrupt is not None:
            raise interrupt
        return stop

    def _run(
        self,
        alert_id: str,
        owner: str,
        targets: list[str],
        compose: Compose,
        report: DispatchReport,
        view: ProgressView,
        heartbeat: _Heartbeat,
    ) -> None:
        quota = self._quota()
        planned: deque[tuple[str, str]] = deque()
        leftovers: list[str] = []  # not handled by this run: tallied from the journal
        outstanding: dict[Future, tuple[str, str]] = {}  # future → (recipient, channel)
        position = 0
        stop: str | None = None
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="envoi")
        try:
            while stop is None:
                if heartbeat.lost:
                    stop = LEASE_LOST_REASON
                    break
                if not planned:
                    if position >= len(targets):
                        break
                    chunk = targets[position : position + LOOKUP_CHUNK]
                    position += len(chunk)
                    deferred = self._plan(alert_id, chunk, quota, planned, report, view)
                    if deferred:
                        assert quota is not None
                        try:
                            self.journal.defer(alert_id, owner, deferred, quota.reason)
                        except LeaseLost:
                            leftovers.extend(deferred)
                            stop = LEASE_LOST_REASON
                            break
                        report.deferred += len(deferred)
                        view.advance(len(deferred))
                    continue
                full = len(outstanding) >= self.max_outstanding
                stop = self._collect(alert_id, outstanding, report, view, block=full)
                if stop is not None:
                    break
                free = self.max_outstanding - len(outstanding)
                batch = [planned.popleft() for _ in range(min(free, len(planned)))]
                routes = [
                    (r, self.channel.name if route == PRIMARY else self._fallback_name())
                    for r, route in batch
                ]
                try:
                    claimed = set(self.journal.claim(alert_id, owner, routes))
                except LeaseLost:
                    leftovers.extend(r for r, _ in batch)
                    stop = LEASE_LOST_REASON
                    break
                for (recipient, route), (_, channel_name) in zip(batch, routes, strict=True):
                    if recipient not in claimed:  # settled meanwhile by someone else
                        leftovers.append(recipient)
                        continue
                    future = pool.submit(self._send, recipient, route, compose)
                    outstanding[future] = (recipient, channel_name)
                self.peak_outstanding = max(self.peak_outstanding, len(outstanding))
            if stop is not None:
                leftovers.extend(self._cancel_queued(alert_id, outstanding, stop))
            while outstanding:
                reason = self._collect(alert_id, outstanding, report, view, block=True)
                if stop is None and reason is not None:
                    stop = reason
                    leftovers.extend(self._cancel_queued(alert_id, outstanding, stop))
        except BaseException:
            # Interrupted (Ctrl-C, journal error…): do not start queued sends, let running ones
            # finish and record them if possible; unrecorded ones stay `pending` (resent later).
            for future in outstanding:
                future.cancel()
            pool.shutdown(wait=True)
            try:
                finished = {f: r for f, r in outstanding.items() if not f.cancelled()}
                self._collect(alert_id, finished, report, view, block=False)
            except BaseException:  # noqa: S110 - best effort, the first error is re-raised
                pass
            raise
        finally:
            pool.shutdown(wait=True)
        report.stopped_reason = stop
        leftovers.extend(r for r, _ in planned)
        leftovers.extend(targets[position:])
        self._tally(alert_id, leftovers, report, view)
        if quota is not None:
            report.notes.extend(quota.notes())

    def _cancel_queued(
        self, alert_id: str, outstanding: dict[Future, tuple[str, str]], reason: str
    ) -> list[str]:
        """Batch stopped: drop submitted sends not started yet and record them as not sent."""
        log.warning("Alerte %s : envoi arrêté : %s", alert_id, reason)
        cancelled = [(f, *outstanding[f]) for f in list(outstanding) if f.cancel()]
        for future, _, _ in cancelled:
            del outstanding[future]
        text = f"envoi interrompu avant ce destinataire : {reason}"
        self.journal.record(
            alert_id,
            [
                Outcome(recipient, GAVE_UP, channel, error_code="interrompu", error_text=text)
                for _, recipient, channel in cancelled
            ],
        )
        return [recipient for _, recipient, _ in cancelled]

    def _fallback_name(self) -> str:
        assert self.fallback is not None
        return self.fallback.name

    def _tally(
        self, alert_id: str, recipients: Sequence[str], report: DispatchReport, view: ProgressView
    ) -> None:
        """Count recipients this run did not handle, by their journal state."""
        for start in range(0, len(recipients), LOOKUP_CHUNK):
            chunk = recipients[start : start + LOOKUP_CHUNK]
            known = self.journal.lookup(alert_id, chunk)
            for recipient in chunk:
                entry = known.get(recipient)
                state = entry.state if entry is not None else None
                if state == SENT:
                    report.sent += 1
                elif state == FAILED:
                    report.failed += 1
                    report.add_failure(entry.error_text if entry else None)
                elif state == DEFERRED:
                    report.deferred += 1
                else:
                    report.not_sent += 1
            view.advance(len(chunk))
