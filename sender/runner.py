"""The sender process: one cycle (`envoyer`, `envoyer --une-fois`), the polling loop
(`surveiller`), `verifier` and `apercu`. The I/O and the loop live here; every decision lives
in `sender.cycle`.

Google Sheets requests per cycle: one `batchGet`; one `batchUpdate` before dispatching (cleaning
results, refusals, « en cours ») and one after (results, heartbeat). A cycle with nothing new
costs the read only; the heartbeat in `Etat` is refreshed at most every `HEARTBEAT_SECONDS`.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import schedule
from rich.console import Console
from rich.markup import escape

from sender import schema
from sender.channels.base import Channel
from sender.channels.factory import PREVIEW_CHANNELS, ConfiguredChannels
from sender.cleaning.phonecache import PhoneCache
from sender.config import Settings
from sender.cycle import (
    ALL_TABS,
    AlertPlan,
    CycleReport,
    Planner,
    Snapshot,
    heartbeat_cells,
    result_cells,
    triage,
)
from sender.dates import now as paris_now
from sender.dispatch.dispatcher import Dispatcher
from sender.dispatch.journal import Journal
from sender.dispatch.messages import AlertMessages
from sender.dispatch.report import DispatchReport
from sender.errors import AlerteError, RegisterError
from sender.register.base import CellChange, Register

log = logging.getLogger(__name__)


def _where(error: BaseException) -> str:
    """The error's type and the code lines it went through, never its message (which may quote
    a cell, a number or a message)."""
    frames = traceback.extract_tb(error.__traceback__)[-4:]
    path = " ← ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{type(error).__name__} ({path})"

HEARTBEAT_SECONDS = 600.0


class Sender:
    """Ties a register, a journal and channels together."""

    def __init__(
        self,
        register: Register,
        settings: Settings,
        *,
        channel: Channel | None = None,
        console: Console | None = None,
        clock: Callable[[], datetime] = paris_now,
        progress: bool | None = None,
    ) -> None:
        self.register = register
        self.settings = settings
        self.console = console or Console(stderr=True)
        self.clock = clock
        self.channels = ConfiguredChannels(settings, primary=channel)
        self._journal: Journal | None = None
        self._progress = progress
        self.phone_cache = PhoneCache(settings.phone_cache_path)
        self._last_heartbeat: float | None = None  # monotonic time; None until the first one

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = Journal.from_settings(self.settings)
        return self._journal

    def planner(self, channels: tuple[str, ...] | None = None) -> Planner:
        return Planner(
            channels=channels or self.channels.names(),
            stale_hours=self.settings.stale_hours,
            phone=self.phone_cache,
            has_started=self.journal.has_started,
        )

    # -- read-only commands --------------------------------------------------------------

    def snapshot(
        self, channels: tuple[str, ...] | None = None
    ) -> tuple[Snapshot, list[CellChange]]:
        tables = self.register.read(ALL_TABS)
        return self.planner(channels).snapshot(tables, self.clock())

    def verify(self) -> list[AlertPlan]:
        """Every alert row with its verdict; nothing is written or sent."""
        snapshot, _ = self.snapshot(channels=(self.settings.channel,))
        return snapshot.plans

    def preview(self, alert_id: str) -> AlertPlan:
        """One alert as if the officer had just set it to « à diffuser », with its exact message
        per channel; nothing is written or sent."""
        tables = self.register.read(ALL_TABS)
        planner = self.planner(channels=PREVIEW_CHANNELS)
        return planner.plan_one(tables, alert_id, self.clock(), status=schema.A_DIFFUSER)

    # -- one cycle -----------------------------------------------------------------------

    def run_once(self) -> CycleReport:
        started = time.monotonic()
        now = self.clock()
        report = CycleReport(started=now)
        snapshot, changes = self.snapshot()
        report.rows = snapshot.cleaning.rows
        report.statuses = dict(snapshot.cleaning.statuses)
        report.cleaning_changes = len(snapshot.cleaning.changes)
        plans = triage(snapshot.plans)
        report.refused = plans.refused
        changes += plans.changes
        if changes:
            self.register.write(changes)  # refusals and « en cours » before anything is sent
            report.writes += 1
        # Only the `Etat` tab is needed after this point: let the sign-up rows and the cleaning
        # results go before dispatching (hundreds of MB at 100,000 sign-ups).
        etat = snapshot.tables[schema.ETAT]
        del snapshot, changes
        self.phone_cache.save()
        final: list[CellChange] = []
        for plan in plans.ready:
            result = self._dispatch(plan)
            report.dispatched.append((plan, result))
            final += result_cells(plan, result, self.clock())
        report.seconds = time.monotonic() - started
        if final or self._heartbeat_due():
            etat_changes, missing = heartbeat_cells(
                etat, report.summary(), now, socket.gethostname()
            )
            final += etat_changes
            try:
                if final:
                    self.register.write(final)
                    report.writes += 1
                if missing:
                    self.register.append(schema.ETAT, missing)
                    report.writes += 1
                self._last_heartbeat = time.monotonic()
            except RegisterError as error:
                # The journal knows what was sent: the next cycle writes the results again.
                report.write_error = error.message
                log.warning("écriture des résultats reportée : %s", error.message)
        return report

    def _heartbeat_due(self) -> bool:
        last = self._last_heartbeat
        return last is None or time.monotonic() - last >= HEARTBEAT_SECONDS

    def _dispatch(self, plan: AlertPlan) -> DispatchReport:
        dispatcher = Dispatcher(
            self.journal,
            self.channels.primary,
            fallback=self.channels.fallback,
            concurrency=self.settings.concurrency,
            daily_limit=self.channels.daily_limit,
            over_limit_policy=self.settings.over_limit_policy,
            progress=self._progress,
            console=self.console,
        )
        messages = AlertMessages(
            plan.alert_id, plan.messages[self.settings.channel], plan.messages.get("sms")
        )
        recipients = [m.numero for m in plan.recipients]
        return dispatcher.dispatch(plan.alert_id, recipients, messages)

    # -- the loop ------------------------------------------------------------------------

    def watch(self, stop: threading.Event, on_cycle: Callable[[CycleReport], None]) -> None:
        """Run a cycle now, then every `poll_seconds`, until `stop` is set."""

        def cycle() -> None:
            try:
                on_cycle(self.run_once())
            except AlerteError as error:
                self._skipped(error.message)
            except (OSError, sqlite3.Error) as error:  # a disk problem outside the stores
                self._skipped(f"erreur du disque ({type(error).__name__}) ; rien n'a été perdu.")
                log.warning("passage ignoré : %s", _where(error))
            except Exception as error:  # the loop must outlive any single pass
                self._skipped(f"erreur inattendue ({type(error).__name__}) ; rien n'a été perdu.")
                log.error("passage ignoré, erreur inattendue : %s", _where(error))

        scheduler = schedule.Scheduler()
        scheduler.every(self.settings.poll_seconds).seconds.do(cycle)
        cycle()
        while not stop.wait(scheduler.idle_seconds):
            scheduler.run_pending()

    def _skipped(self, reason: str) -> None:
        again = "" if "nouvel essai" in reason.lower() else (
            f" Nouvel essai dans {self.settings.poll_seconds:g} s."
        )
        self.console.print(f"[yellow]Passage ignoré :[/yellow] {escape(reason)}{again}")

    def close(self) -> None:
        self.channels.close()
        if self._journal is not None:
            self._journal.close()
