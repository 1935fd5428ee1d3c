"""Send one alert to every targeted member, exactly once, resumably, with bounded memory.

`Dispatcher.dispatch(alert_id, numeros, compose)`:

1. takes the alert's lease in the journal (another live owner → nothing is sent);
2. walks the recipients in chunks and asks `decisions.decide` what to do with each one's journal
   row: reached and final failures are counted, not resent; sends whose answer was lost wait
   for their status webhook or are sent again after every fresh send (never a third copy
   without a status); the daily limit routes the others (primary channel, SMS instead, or
   `deferred`);
3. claims recipients (`pending`, with the callback string of their message) just before
   submitting them to a thread pool, never more than `2 × concurrency` outstanding sends, and
   records each result just after it (group commit);
4. a recipient error with `try_sms` goes to the fallback SMS channel; a batch error, or the
   same suspect error for `breaker.THRESHOLD` members in a row, stops new submissions, lets
   in-flight sends finish and be recorded;
5. every `watch_seconds`, calls `watch` (the runner re-reads the alert's row and writes its
   progress): a motif back means the officer called the alert off, and it stops like a batch
   error (nothing more is claimed, sends not started are dropped, those in flight recorded);
6. releases the lease, even on exceptions, and returns a `DispatchReport`.

`compose(channel_name, recipient)` builds the message for a channel, so the SMS fallback can use
the SMS text while WhatsApp uses the approved template (see `messages.AlertMessages`).

The dispatcher's hold on the lease is in `lease`, one recipient's send (channel, SMS fallback,
outcome) in `sending`, the daily limit in `quota`.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

from rich.console import Console

from sender.channels.base import Channel
from sender.channels.whatsapp import SMS_CODE_TEXTS
from sender.dispatch.breaker import CircuitBreaker
from sender.dispatch.decisions import Decision, Rules, decide
from sender.dispatch.lease import AlertLease
from sender.dispatch.messages import Compose
from sender.dispatch.progress import ProgressView
from sender.dispatch.quota import FALLBACK, PRIMARY, DailyQuota
from sender.dispatch.report import BUSY_REASON, DispatchReport
from sender.dispatch.sending import Attempt, send
from sender.errors import ConfigurationError
from sender.journal.journal import LOOKUP_CHUNK, Journal
from sender.journal.states import (
    DEFERRED,
    FAILED,
    GAVE_UP,
    SENT,
    UNCERTAIN,
    JournalEntry,
    LeaseLost,
    Outcome,
)

log = logging.getLogger(__name__)

LEASE_LOST_MOTIF = (
    "le verrou d'envoi de l'alerte a été perdu (un autre processus a pu reprendre l'envoi) ; "
    "les messages restants partiront au prochain cycle"
)


@dataclass(frozen=True, slots=True)
class _Stop:
    """Why a run stops submitting: `pause` when it resumes by itself at the next cycle."""

    motif: str
    pause: bool = False
    cancelled: bool = False


Watch = Callable[[], "str | None"]  # the alert called off: its motif, else None


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
        webhooks: bool = False,
        status_wait: float = 120.0,
        clock: Callable[[], float] = time.time,
        on_progress: Callable[[], None] | None = None,
    ) -> None:
        """`clock` gives the wall time (seconds since the epoch) that the wait for a lost
        answer's status (`status_wait`) is measured against; tests pass a fake one.
        `on_progress` is told each time the dispatch advances (the watchdog's sign of life)."""
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
        self.over_limit_policy = over_limit_policy
        self.console = console if console is not None else Console(highlight=False)
        self.progress = self.console.is_terminal if progress is None else progress
        self.lease_seconds = lease_seconds
        self.webhooks = webhooks
        self.status_wait = status_wait
        self.clock = clock
        self.on_progress = on_progress
        self.max_outstanding = 2 * concurrency
        self.peak_outstanding = 0  # largest number of submitted, unrecorded sends (for tests)

    # -- public ----------------------------------------------------------------------------

    def dispatch(
        self,
        alert_id: str,
        numeros: Iterable[str],
        compose: Compose,
        *,
        retry_failed: bool = False,
        watch: Watch | None = None,
        watch_seconds: float = 10.0,
    ) -> DispatchReport:
        """Send the alert to every recipient (E.164) not yet served; see the module docstring.

        `retry_failed`: the alert was put back to « à diffuser »; members whose failure may come
        from a setting are sent to again (never one already reached). `watch` is called every
        `watch_seconds` while the run lasts (see the module docstring)."""
        started = time.monotonic()
        targets = list(dict.fromkeys(r for r in numeros if r))
        report = DispatchReport(alert_id, recipients=len(targets), retrigger=retry_failed)
        view = ProgressView(self.console, fancy=self.progress, on_advance=self.on_progress)
        lease = AlertLease(self.journal, alert_id, self.lease_seconds)
        rules = self._rules(retry_failed)
        if not lease.acquire():
            report.busy = True
            report.stopped_motif = BUSY_REASON
            log.info("Alerte %s : %s.", alert_id, BUSY_REASON)
            self._tally(alert_id, targets, report, view, rules)
            report.elapsed = time.monotonic() - started
            view.finish(report)
            return report
        log.info("Alerte %s : envoi à %d destinataire(s).", alert_id, len(targets))
        with lease.kept():
            view.start(alert_id, len(targets))
            try:
                self._run(lease, targets, compose, report, view, rules,
                          _Watcher(watch, watch_seconds))
            finally:
                view.stop()
        report.elapsed = time.monotonic() - started
        log.info("%s", report.summary_line())
        view.finish(report)
        return report

    # -- planning --------------------------------------------------------------------------

    def _rules(self, retry_failed: bool) -> Rules:
        return Rules(
            now=self.clock(),
            webhooks=self.webhooks,
            wait=self.status_wait,
            confirmed_claim_at=self.journal.confirmed_claim_at() if self.webhooks else None,
            last_status_at=self.journal.last_status_at() if self.webhooks else None,
            sms_codes=frozenset(SMS_CODE_TEXTS) if self.fallback else frozenset(),
            retry_failed=retry_failed,
        )

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
        queues: _Queues,
        report: DispatchReport,
        view: ProgressView,
        rules: Rules,
    ) -> list[str]:
        """Count recipients already settled, queue those to send; return those to defer."""
        known = self.journal.lookup(alert_id, chunk)
        deferred: list[str] = []
        settled = 0
        for numero in chunk:
            entry = known.get(numero)
            decision = decide(entry, rules)
            if _count_if_settled(report, entry, decision):
                settled += 1
                if decision is Decision.REACHED and rules.retry_failed:
                    report.already_reached += 1
                continue
            if decision is Decision.SMS:
                queues.reclaim.add(numero)
                queues.planned.append((numero, FALLBACK))
                continue
            if entry is not None and entry.state == FAILED:
                queues.reclaim.add(numero)  # sent again: the alert was put back
            fallback_name = self.fallback.name if self.fallback is not None else None
            if decision is Decision.RESEND and entry is not None and entry.channel == fallback_name:
                queues.later.append((numero, FALLBACK))
                continue
            route = PRIMARY if quota is None else quota.route(numero)
            if route is None:
                deferred.append(numero)
            elif decision is Decision.RESEND:
                queues.later.append((numero, route))
            else:
                queues.planned.append((numero, route))
        view.advance(settled)
        return deferred

    # -- main loop -------------------------------------------------------------------------

    def _run(
        self,
        lease: AlertLease,
        targets: list[str],
        compose: Compose,
        report: DispatchReport,
        view: ProgressView,
        rules: Rules,
        watcher: _Watcher,
    ) -> None:
        """Plan and submit, drain what is in flight, then count what this run left."""
        run = _Run(lease, targets, compose, report, view, rules, self._quota(), watcher)
        pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="envoi")
        try:
            stop = self._submit_all(run, pool)
            stop = self._drain(run, stop)
        except BaseException:
            self._abandon(run, pool)
            raise
        finally:
            pool.shutdown(wait=True)
        self._conclude(run, stop)

    def _submit_all(self, run: _Run, pool: ThreadPoolExecutor) -> _Stop | None:
        """Plan chunk after chunk and submit, until every target is handled or a reason to
        stop comes up (returned)."""
        planned, later = run.queues.planned, run.queues.later
        while True:
            if run.lease.lost:
                return _Stop(LEASE_LOST_MOTIF)
            called_off = run.watcher.check()
            if called_off is not None:
                return called_off
            if not planned:
                if run.position < len(run.targets):
                    stop = self._plan_next_chunk(run)
                elif later:
                    planned.extend(later)  # lost answers: after every fresh send
                    later.clear()
                    continue
                else:
                    return None
            else:
                full = len(run.outstanding) >= self.max_outstanding
                stop = self._collect_finished(run, block=full) or self._submit_batch(run, pool)
            if stop is not None:
                return stop

    def _plan_next_chunk(self, run: _Run) -> _Stop | None:
        """Plan the next chunk of targets; record those the daily limit defers."""
        chunk = run.targets[run.position : run.position + LOOKUP_CHUNK]
        run.position += len(chunk)
        alert_id = run.lease.alert_id
        deferred = self._plan(alert_id, chunk, run.quota, run.queues, run.report, run.view,
                              run.rules)
        if not deferred:
            return None
        assert run.quota is not None
        try:
            self.journal.defer(alert_id, run.lease.owner, deferred, run.quota.reason)
        except LeaseLost:
            run.leftovers.extend(deferred)
            return _Stop(LEASE_LOST_MOTIF)
        run.report.deferred += len(deferred)
        run.view.advance(len(deferred))
        return None

    def _submit_batch(self, run: _Run, pool: ThreadPoolExecutor) -> _Stop | None:
        """Claim as many planned recipients as there is room for, and submit their sends."""
        planned = run.queues.planned
        free = self.max_outstanding - len(run.outstanding)
        batch = [planned.popleft() for _ in range(min(free, len(planned)))]
        routes = [
            (r, self.channel.name if route == PRIMARY else self._fallback_name())
            for r, route in batch
        ]
        try:
            claimed = self.journal.claim(
                run.lease.alert_id, run.lease.owner, routes, reclaim=run.queues.reclaim
            )
        except LeaseLost:
            run.leftovers.extend(r for r, _ in batch)
            return _Stop(LEASE_LOST_MOTIF)
        for (numero, route), (_, channel_name) in zip(batch, routes, strict=True):
            if numero not in claimed:  # settled meanwhile by someone else
                run.leftovers.append(numero)
                continue
            future = pool.submit(
                send, self.channel, self.fallback, numero, route, run.compose,
                claimed[numero],
            )
            run.outstanding[future] = (numero, channel_name)
        self.peak_outstanding = max(self.peak_outstanding, len(run.outstanding))
        return None

    def _drain(self, run: _Run, stop: _Stop | None) -> _Stop | None:
        """Record every send in flight; on a stop, first drop those not started yet."""
        alert_id = run.lease.alert_id
        if stop is not None:
            run.leftovers.extend(self._cancel_queued(alert_id, run.outstanding, stop.motif))
        while run.outstanding:
            reason = self._collect_finished(run, block=True)
            if stop is None and reason is None:
                reason = run.watcher.check()
            if stop is None and reason is not None:
                stop = reason
                run.leftovers.extend(self._cancel_queued(alert_id, run.outstanding, stop.motif))
        return stop

    def _abandon(self, run: _Run, pool: ThreadPoolExecutor) -> None:
        """Interrupted (Ctrl-C, journal error…): do not start queued sends, let running ones
        finish and record them if possible; unrecorded ones stay `pending` (one possible copy
        each, see decisions.py)."""
        for future in run.outstanding:
            future.cancel()
        pool.shutdown(wait=True)
        try:
            run.outstanding = {f: r for f, r in run.outstanding.items() if not f.cancelled()}
            self._collect_finished(run, block=False)
        except BaseException:  # noqa: S110 - best effort, the caller re-raises the first error
            pass

    def _conclude(self, run: _Run, stop: _Stop | None) -> None:
        """Why the run stopped, and the count of every recipient it did not settle."""
        report = run.report
        report.cancelled = stop is not None and stop.cancelled
        if stop is not None and (stop.pause or stop.cancelled):
            report.paused_motif = stop.motif
        elif stop is not None:
            report.stopped_motif = stop.motif
        run.leftovers.extend(r for r, _ in run.queues.planned)
        run.leftovers.extend(r for r, _ in run.queues.later)
        run.leftovers.extend(run.targets[run.position :])
        self._tally(run.lease.alert_id, run.leftovers, report, run.view,
                    self._rules(run.rules.retry_failed))
        if run.quota is not None:
            report.notes.extend(run.quota.notes())

    def _collect_finished(self, run: _Run, *, block: bool) -> _Stop | None:
        return self._collect(run.lease.alert_id, run.outstanding, run.report, run.view,
                             run.breaker, run.leftovers, block=block,
                             timeout=run.watcher.timeout())

    def _fallback_name(self) -> str:
        assert self.fallback is not None
        return self.fallback.name

    # -- recording and counting results ----------------------------------------------------

    def _collect(
        self,
        alert_id: str,
        outstanding: dict[Future, tuple[str, str]],
        report: DispatchReport,
        view: ProgressView,
        breaker: CircuitBreaker,
        uncertain: list[str],
        *,
        block: bool,
        timeout: float | None = None,
    ) -> _Stop | None:
        """Record finished sends (one transaction); return why to stop submitting, if any.
        A blocking wait ends after `timeout` seconds even when no send has finished.
        Recipients whose answer was lost go to `uncertain`, counted from the journal at the
        end (waiting for a status, to send again, or unconfirmed)."""
        if not outstanding:
            return None
        if block:
            done, _ = wait(list(outstanding), timeout=timeout, return_when=FIRST_COMPLETED)
        else:
            done = {f for f in outstanding if f.done()}
        attempts: list[Attempt] = []
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
        reasons: list[_Stop] = []
        counted = 0
        for attempt in attempts:
            outcome = attempt.outcome
            tripped: str | None = None
            if outcome.state == SENT:
                report.sent += 1
                report.sent_now += 1
                report.sent_by_fallback += attempt.via_fallback
                breaker.observe(None, None)
            elif outcome.state == FAILED:
                report.failed += 1
                report.add_failure(outcome.error_text)
                tripped = breaker.observe(outcome.error_code, attempt.suspect)
            elif outcome.state == UNCERTAIN:
                uncertain.append(outcome.numero)
                pause = breaker.observe_lost()
                if pause is not None:
                    reasons.append(_Stop(pause, pause=True))
                continue
            else:
                report.not_sent += 1
                if attempt.stop_motif is None:
                    report.add_failure(outcome.error_text)
            counted += 1
            for reason in (tripped, attempt.stop_motif):
                if reason is not None:
                    reasons.append(_Stop(reason))
        # A stop outranks a pause: the batch must not resume by itself.
        stop = next((r for r in reasons if not r.pause), reasons[0] if reasons else None)
        view.advance(counted)
        if interrupt is not None:
            raise interrupt
        return stop

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
                Outcome(numero, GAVE_UP, channel, error_code="interrompu", error_text=text)
                for _, numero, channel in cancelled
            ],
        )
        return [numero for _, numero, _ in cancelled]

    def _tally(
        self,
        alert_id: str,
        numeros: Sequence[str],
        report: DispatchReport,
        view: ProgressView,
        rules: Rules,
    ) -> None:
        """Count recipients this run did not settle, by their journal row."""
        for start in range(0, len(numeros), LOOKUP_CHUNK):
            chunk = numeros[start : start + LOOKUP_CHUNK]
            known = self.journal.lookup(alert_id, chunk)
            for numero in chunk:
                entry = known.get(numero)
                decision = decide(entry, rules)
                if _count_if_settled(report, entry, decision):
                    continue
                if entry is not None and entry.state == DEFERRED:
                    report.deferred += 1
                else:
                    report.not_sent += 1
            view.advance(len(chunk))


@dataclass
class _Run:
    """One run's state between its phases: what is planned, in flight and left over."""

    lease: AlertLease
    targets: list[str]
    compose: Compose
    report: DispatchReport
    view: ProgressView
    rules: Rules
    quota: DailyQuota | None
    watcher: _Watcher
    queues: _Queues = field(default_factory=lambda: _Queues())
    leftovers: list[str] = field(default_factory=list)  # not handled: tallied from the journal
    # Submitted, unrecorded sends: future → (recipient, channel name).
    outstanding: dict[Future, tuple[str, str]] = field(default_factory=dict)
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    position: int = 0  # targets before this one are planned


class _Watcher:
    """Calls the run's `watch` at most every `seconds` (and at once never: the cycle has just
    read the row)."""

    def __init__(self, watch: Watch | None, seconds: float) -> None:
        self.watch = watch
        self.seconds = max(0.01, seconds)
        self.due = time.monotonic() + self.seconds

    def timeout(self) -> float | None:
        """How long a blocking wait may last before the next call is due."""
        if self.watch is None:
            return None
        return max(0.0, self.due - time.monotonic())

    def check(self) -> _Stop | None:
        if self.watch is None or time.monotonic() < self.due:
            return None
        self.due = time.monotonic() + self.seconds
        motif = self.watch()
        return None if motif is None else _Stop(motif, cancelled=True)


class _Queues:
    """What a run has planned: fresh sends, sends whose answer was lost (after every fresh
    send) and `failed` rows it decided to send again (SMS fallback, alert put back)."""

    def __init__(self) -> None:
        self.planned: deque[tuple[str, str]] = deque()
        self.later: list[tuple[str, str]] = []
        self.reclaim: set[str] = set()


def _count_if_settled(
    report: DispatchReport, entry: JournalEntry | None, decision: Decision
) -> bool:
    """Count a recipient settled for now (reached, failed, waiting for a status, unconfirmed);
    False when it is still to be sent."""
    if decision is Decision.REACHED:
        report.sent += 1
    elif decision is Decision.FAILED:
        report.failed += 1
        report.add_failure(entry.error_text if entry is not None else None)
    elif decision is Decision.WAIT:
        report.waiting += 1
    elif decision is Decision.UNCONFIRMED:
        report.unconfirmed += 1
    else:
        return False
    return True
