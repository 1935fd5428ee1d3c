"""The sender process: one cycle (`envoyer --une-fois`), the polling loop (`surveiller`),
`verifier` and `apercu`. All I/O lives here; decisions live in `sender.cycle`."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import schedule
from rich.console import Console

from sender import schema
from sender.alerts.compose import ComposedMessage
from sender.channels.base import Channel, OutgoingMessage
from sender.cleaning.phonecache import PhoneCache
from sender.config import Settings
from sender.cycle import (
    ALL_TABS,
    AlertPlan,
    Planner,
    Snapshot,
    alert_cells,
    heartbeat_cells,
    refusal_cells,
)
from sender.dates import format_french
from sender.dates import now as paris_now
from sender.dispatch.dispatcher import Dispatcher
from sender.dispatch.journal import Journal
from sender.dispatch.report import DispatchReport
from sender.errors import AlerteError, InputError, RegisterError
from sender.register.base import CellChange, Register
from sender.text import plural

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 600.0


@dataclass
class CycleReport:
    """What one cycle did, for the terminal and the `Etat` tab."""

    started: datetime
    rows: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    cleaning_changes: int = 0
    refused: list[AlertPlan] = field(default_factory=list)
    dispatched: list[tuple[AlertPlan, DispatchReport]] = field(default_factory=list)
    writes: int = 0
    write_error: str | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        actifs = self.statuses.get(schema.ACTIF, 0)
        parts = [plural(actifs, "adhérent actif", "adhérents actifs")]
        done = sum(1 for _plan, result in self.dispatched if result.complete)
        if done:
            parts.append(plural(done, "alerte diffusée", "alertes diffusées"))
        if len(self.dispatched) > done:
            parts.append(plural(len(self.dispatched) - done, "alerte en cours", "alertes en cours"))
        if self.refused:
            parts.append(plural(len(self.refused), "alerte refusée", "alertes refusées"))
        if self.write_error:
            parts.append(f"écriture reportée : {self.write_error}")
        return ", ".join(parts)



class Sender:
    """Ties a register, a journal and channels together."""

    def __init__(
        self,
        register: Register,
        settings: Settings,
        *,
        channel: Channel | None = None,
        fallback: Channel | None = None,
        journal: Journal | None = None,
        console: Console | None = None,
        clock: Callable[[], datetime] = paris_now,
        progress: bool | None = None,
    ) -> None:
        self.register = register
        self.settings = settings
        self.console = console or Console(stderr=True)
        self.clock = clock
        self._channel = channel
        self._fallback = fallback
        self._journal = journal
        self._progress = progress
        self.phone_cache = PhoneCache(settings.journal.with_name("numeros.sqlite"))
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._last_heartbeat: float | None = None  # monotonic time; None until the first one

    # -- lazily built parts (verifier needs no channel) ----------------------------------

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = Journal(self.settings.journal)
        return self._journal

    @property
    def channel(self) -> Channel:
        if self._channel is None:
            from sender.channels.factory import make_channel

            self._channel = make_channel(self.settings.channel, self.settings)
        return self._channel

    @property
    def fallback(self) -> Channel | None:
        if self._fallback is None and self.settings.channel == "whatsapp":
            from sender.channels.factory import make_fallback_sms

            self._fallback = make_fallback_sms(self.settings)
        return self._fallback

    def channels(self) -> tuple[str, ...]:
        if self.settings.channel == "whatsapp" and self.fallback is not None:
            return ("whatsapp", "sms")
        return (self.settings.channel,)

    def planner(self, channels: tuple[str, ...] | None = None) -> Planner:
        return Planner(
            channels=channels or self.channels(),
            stale_hours=self.settings.stale_hours,
            phone=self.phone_cache,
            has_started=lambda alert_id: bool(self.journal.entries(alert_id)),
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

    def preview(self, alert_id: str) -> tuple[AlertPlan, dict[str, ComposedMessage]]:
        """The exact message per channel for one alert, whatever its status."""
        tables = self.register.read(ALL_TABS)
        planner = self.planner(channels=("whatsapp", "sms"))
        rows = [r for r in tables[schema.ALERTES].rows if r.get("id").strip() == alert_id.strip()]
        if not rows:
            raise InputError(f"Aucune alerte avec l'identifiant « {alert_id} ».")
        # Preview as if the officer had just set the row to « à diffuser ».
        row = rows[0]
        forced = dict(row.values, statut=schema.A_DIFFUSER)
        tables[schema.ALERTES].rows = [type(row)(row.key, forced)]
        snapshot, _ = planner.snapshot(tables, self.clock())
        plan = snapshot.plans[0]
        return plan, plan.messages

    # -- one cycle -----------------------------------------------------------------------

    def run_once(self) -> CycleReport:
        started = time.monotonic()
        now = self.clock()
        report = CycleReport(started=now)
        snapshot, changes = self.snapshot()
        report.rows = snapshot.cleaning.rows
        report.statuses = dict(snapshot.cleaning.statuses)
        report.cleaning_changes = len(snapshot.cleaning.changes)
        ready: list[AlertPlan] = []
        for plan in snapshot.plans:
            if plan.verdict == schema.REFUSEE:
                changes += refusal_cells(plan, now)
                report.refused.append(plan)
            elif plan.verdict == schema.A_DIFFUSER:
                changes += alert_cells(
                    plan.row, statut=schema.EN_COURS, motif="",
                    destinataires=len(plan.recipients),
                )
                ready.append(plan)
        if changes:
            self.register.write(changes)  # refusals and « en cours » before anything is sent
            report.writes += 1
        # Only the `Etat` tab is needed after this point: let the sign-up rows, the cleaning
        # results and the members go before dispatching (hundreds of MB at 100,000 sign-ups).
        etat = snapshot.tables[schema.ETAT]
        del snapshot, changes
        self.phone_cache.save()
        final: list[CellChange] = []
        for plan in ready:
            result = self._dispatch(plan)
            report.dispatched.append((plan, result))
            final += self._result_cells(plan, result)
        report.seconds = time.monotonic() - started
        if final or self._heartbeat_due():
            etat_changes, missing = heartbeat_cells(etat, report.summary(), now)
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
            self.channel,
            fallback=self.fallback,
            concurrency=self.settings.concurrency,
            daily_limit=self.settings.daily_limit if self.settings.channel == "whatsapp" else None,
            over_limit_policy=self.settings.over_limit_policy,
            progress=self._progress,
            console=self.console,
        )
        primary = plan.messages[self.settings.channel]
        sms = plan.messages.get("sms")
        recipients = [m.numero for m in plan.recipients]

        def build(channel_name: str, recipient: str) -> OutgoingMessage:
            message = sms if channel_name == "sms" and sms is not None else primary
            return message.to_message(plan.alert_id, recipient)

        return dispatcher.dispatch(plan.alert_id, recipients, build)

    def _result_cells(self, plan: AlertPlan, result: DispatchReport) -> list[CellChange]:
        if result.busy:
            return []
        now = format_french(self.clock())
        reasons = " ; ".join(result.failure_lines()[:5])
        if result.stopped_reason:
            status = schema.ERREUR
            motif = f"Envoi arrêté : {result.stopped_reason}"
        elif result.complete:
            status = schema.DIFFUSEE
            motif = f"Échecs : {reasons}" if result.failed else ""
        else:
            status = schema.EN_COURS
            motif = " ".join(result.notes) or "Envoi à reprendre au prochain passage."
        cells = {
            "statut": status,
            "motif": motif,
            "destinataires": result.recipients,
            "envoyes": result.sent,
            "echecs": result.failed,
        }
        if status == schema.DIFFUSEE:
            cells["diffusee_le"] = now
        return alert_cells(plan.row, **cells)

    # -- the loop ------------------------------------------------------------------------

    def watch(self, stop: threading.Event, on_cycle: Callable[[CycleReport], None]) -> None:
        """Run a cycle now, then every `poll_seconds`, until `stop` is set."""
        scheduler = schedule.Scheduler()

        def job() -> None:
            try:
                on_cycle(self.run_once())
            except AlerteError as error:
                self.console.print(f"[yellow]Passage ignoré :[/yellow] {error.message}")

        scheduler.every(self.settings.poll_seconds).seconds.do(job)
        job()
        while not stop.is_set():
            wait = scheduler.idle_seconds
            stop.wait(min(max(wait if wait is not None else 0.05, 0.0), 0.5))
            scheduler.run_pending()

    def close(self) -> None:
        for part in (self._channel, self._fallback):
            if part is not None:
                part.close()
        if self._journal is not None:
            self._journal.close()
