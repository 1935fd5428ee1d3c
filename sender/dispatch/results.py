"""Counting a dispatch: sends recorded in the journal and tallied in the `DispatchReport`.

`collect` records finished sends (group commit), `cancel_queued` records sends dropped by a
batch stop, `tally` counts recipients a run did not handle from their journal state.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait

from sender.dispatch.journal import DEFERRED, FAILED, GAVE_UP, SENT, Journal, Outcome
from sender.dispatch.progress import ProgressView
from sender.dispatch.report import DispatchReport
from sender.dispatch.sending import Attempt

log = logging.getLogger("sender.dispatch.dispatcher")  # logs as part of the dispatcher

LOOKUP_CHUNK = 500  # recipients read from the journal at a time


def collect(
    journal: Journal,
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
        journal.record(alert_id, [a.outcome for a in attempts])
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


def cancel_queued(
    journal: Journal, alert_id: str, outstanding: dict[Future, tuple[str, str]], reason: str
) -> list[str]:
    """Batch stopped: drop submitted sends not started yet and record them as not sent."""
    log.warning("Alerte %s : envoi arrêté : %s", alert_id, reason)
    cancelled = [(f, *outstanding[f]) for f in list(outstanding) if f.cancel()]
    for future, _, _ in cancelled:
        del outstanding[future]
    text = f"envoi interrompu avant ce destinataire : {reason}"
    journal.record(
        alert_id,
        [
            Outcome(recipient, GAVE_UP, channel, error_code="interrompu", error_text=text)
            for _, recipient, channel in cancelled
        ],
    )
    return [recipient for _, recipient, _ in cancelled]


def tally(
    journal: Journal,
    alert_id: str,
    recipients: Sequence[str],
    report: DispatchReport,
    view: ProgressView,
) -> None:
    """Count recipients this run did not handle, by their journal state."""
    for start in range(0, len(recipients), LOOKUP_CHUNK):
        chunk = recipients[start : start + LOOKUP_CHUNK]
        known = journal.lookup(alert_id, chunk)
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
