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

The lease heartbeat is in `heartbeat`, one recipient's send in `sending`, the recording and
counting of results in `results`.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from rich.console import Console

from sender.channels.base import Channel
from sender.dispatch.heartbeat import Heartbeat, dead_local_owner, owner_id
from sender.dispatch.journal import FAILED, SENT, Journal, JournalError, LeaseLost
from sender.dispatch.messages import AlertMessages, Compose
from sender.dispatch.progress import ProgressView
from sender.dispatch.quota import PRIMARY, DailyQuota, check_policy
from sender.dispatch.report import BUSY_REASON, DispatchReport
from sender.dispatch.results import LOOKUP_CHUNK, cancel_queued, collect, tally
from sender.dispatch.sending import Attempt, send
from sender.errors import ConfigurationError

__all__ = ["LEASE_LOST_REASON", "LOOKUP_CHUNK", "AlertMessages", "Compose", "Dispatcher"]

log = logging.getLogger(__name__)

LEASE_LOST_REASON = (
    "le verrou d'envoi de l'alerte a été perdu (un autre processus a pu reprendre l'envoi) ; "
    "les messages restants partiront au prochain cycle"
)


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
        owner = owner_id()
        if not self._acquire(alert_id, owner):
            report.busy = True
            report.stopped_reason = BUSY_REASON
            log.info("Alerte %s : %s.", alert_id, BUSY_REASON)
            tally(self.journal, alert_id, targets, report, view)
            report.elapsed = time.monotonic() - started
            view.finish(report)
            return report
        log.info("Alerte %s : envoi à %d destinataire(s).", alert_id, len(targets))
        heartbeat = Heartbeat(self.journal, alert_id, owner, self.lease_seconds)
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
        if holder is None or not dead_local_owner(holder):
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

    def _send(self, recipient: str, route: str, compose: Compose) -> Attempt:
        """Runs in a worker thread: one recipient, never raises an ordinary exception."""
        return send(self.channel, self.fallback, recipient, route, compose)

    # -- main loop -------------------------------------------------------------------------

    def _run(
        self,
        alert_id: str,
        owner: str,
        targets: list[str],
        compose: Compose,
        report: DispatchReport,
        view: ProgressView,
        heartbeat: Heartbeat,
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
                stop = collect(self.journal, alert_id, outstanding, report, view, block=full)
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
                leftovers.extend(cancel_queued(self.journal, alert_id, outstanding, stop))
            while outstanding:
                reason = collect(self.journal, alert_id, outstanding, report, view, block=True)
                if stop is None and reason is not None:
                    stop = reason
                    leftovers.extend(cancel_queued(self.journal, alert_id, outstanding, stop))
        except BaseException:
            # Interrupted (Ctrl-C, journal error…): do not start queued sends, let running ones
            # finish and record them if possible; unrecorded ones stay `pending` (resent later).
            for future in outstanding:
                future.cancel()
            pool.shutdown(wait=True)
            try:
                finished = {f: r for f, r in outstanding.items() if not f.cancelled()}
                collect(self.journal, alert_id, finished, report, view, block=False)
            except BaseException:  # noqa: S110 - best effort, the first error is re-raised
                pass
            raise
        finally:
            pool.shutdown(wait=True)
        report.stopped_reason = stop
        leftovers.extend(r for r, _ in planned)
        leftovers.extend(targets[position:])
        tally(self.journal, alert_id, leftovers, report, view)
        if quota is not None:
            report.notes.extend(quota.notes())

    def _fallback_name(self) -> str:
        assert self.fallback is not None
        return self.fallback.name
