"""The sender process: one cycle (`envoyer`, `envoyer --une-fois`), the polling loop
(`surveiller`), `verifier` and `apercu`. The I/O and the loop live here; every decision lives
in `sender.cycle`.

Google Sheets requests per cycle: one `batchGet`; one `batchUpdate` before dispatching (cleaning
results, refusals, « en cours ») and one after (results, the counts status webhooks changed,
heartbeat), each write preceded by one look at where its rows are now; one `append` when
members opted out on WhatsApp; one read and one write (with its look) of the request tabs when
members tapped the confirmation button on WhatsApp. A cycle with nothing new
costs the read only; the heartbeat in `Etat` is refreshed every `HEARTBEAT_SECONDS` (60 s: the
`Alertes` banner turns red when it is 3 minutes old), one look and one write, so an idle minute
costs 6 reads and 2 heartbeat requests at the default 10 s poll (8 requests a minute, within
Google's 60 per minute and per user).
A cycle that would dispatch first reads the protections of `Alertes` and `Habilitations` (one
metadata request): if they are not what `initialiser` set for the active officers, no alert is
sent and each row says why. When idle, that check runs at most every `PROTECTION_SECONDS`, for
the warning in `Etat`.

While a dispatch lasts, it re-reads its `Alertes` row once per `ALERTE_INTERVALLE` (one
request, `Register.reread`): « annulée » stops it; otherwise `envoyes` and `echecs` are written
when they changed (one write and its look). Rows set « annulée » get their `motif` (how many
messages went before) in the write after the dispatch.

After the alerts, the cycle sends the confirmation messages of the sign-ups and unsubscription
requests waiting for one (`consent.outgoing`), within what the daily limit leaves to them.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import schedule
from rich.console import Console
from rich.markup import escape

from sender import schema
from sender.alerts.authority import protection_problem
from sender.alerts.preflight import Audience
from sender.channels.base import Channel
from sender.channels.factory import PREVIEW_CHANNELS, ConfiguredChannels
from sender.channels.graph import read_phone_number
from sender.channels.whatsapp import SMS_CODE_TEXTS
from sender.cleaning.phonecache import PhoneCache
from sender.cleaning.suppressions import SuppressionList
from sender.config import Settings, is_google_sheet
from sender.consent.budget import (
    etat_figures,
    mark_asked,
    month_start,
    outbound_state,
    sms_parts,
)
from sender.consent.outgoing import ConfirmationSender
from sender.consent.outgoing import failures as confirmation_failures
from sender.consent.requests import ConfirmationRequest, outbound
from sender.consent.tokens import load_secret
from sender.conversation.inbox import Inbox, RequestTabs
from sender.cycle import (
    ALL_TABS,
    FOLLOWED_STATUSES,
    AlertPlan,
    CycleReport,
    Planner,
    Snapshot,
    alert_cells,
    cancelled_cells,
    count_cells,
    heartbeat_cells,
    is_cancelled,
    refuse_plans,
    result_cells,
    status_cells,
    triage,
)
from sender.dates import now as paris_now
from sender.delivery.account import (
    Account,
    etat_values,
    phone_events,
    read_account,
    save_account,
)
from sender.delivery.confirmations import ButtonConfirmations
from sender.delivery.optouts import OptOuts
from sender.delivery.store import DeliveryStore
from sender.dispatch.dispatcher import Dispatcher
from sender.dispatch.messages import AlertMessages
from sender.dispatch.report import DispatchReport
from sender.errors import AlerteError, ConfigurationError, RegisterError
from sender.health.monitor import Monitor
from sender.health.report import stopped_warning
from sender.journal.asked import SmsRequests
from sender.journal.counts import ACCUSE
from sender.journal.file import JournalFile
from sender.journal.journal import Journal
from sender.privacy.retention import PurgeReport, purge
from sender.register.base import Register
from sender.register.protection import officer_emails
from sender.schema import ACTIF
from sender.tables import CellChange, Row, Table
from sender.text import fold, mask_phone

log = logging.getLogger(__name__)


def _differs(etat: Table, rows: Mapping[str, str]) -> bool:
    """Whether `Etat` lacks one of these rows or shows another value."""
    shown = {row.get("cle"): row.get("valeur") for row in etat.rows}
    return any(shown.get(key) != value for key, value in rows.items())


def _where(error: BaseException) -> str:
    """The error's type and the code lines it went through, never its message (which may quote
    a cell, a number or a message)."""
    frames = traceback.extract_tb(error.__traceback__)[-4:]
    path = " ← ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in reversed(frames))
    return f"{type(error).__name__} ({path})"

HEARTBEAT_SECONDS = 60.0
PROTECTION_SECONDS = 600.0
ACCOUNT_READ_SECONDS = 3600.0  # the messaging limit and quality are read from Meta hourly
PRUNE_SECONDS = 3600.0
AUDIENCE_DAYS = 30  # members reached by SMS fallback this recently count as « SMS » in `controle`
CLOCK_MARGIN = 5.0  # seconds: a status written just before a poll is read again at the next
LOCAL_REGISTER_NOTE = (
    "registre local : quiconque peut écrire ce fichier peut lancer une alerte (protéger le "
    "fichier et la machine)"
)
SMS_CEILING_MOTIF = (
    "Envoi suspendu : plafond mensuel de SMS atteint (ALERTE_PLAFOND_SMS_MOIS) et "
    "ALERTE_PLAFOND_SMS_ALERTES=bloquer ; l'alerte part dès que le plafond le permet."
)


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
        status_clock: Callable[[], float] = time.time,
    ) -> None:
        self.register = register
        self.settings = settings
        self.console = console or Console(stderr=True)
        self.clock = clock
        self.channels = ConfiguredChannels(settings, primary=channel)
        self._journal: Journal | None = None
        self._progress = progress
        self.status_clock = status_clock  # the dispatcher's wall time for status waits
        self.phone_cache = PhoneCache(settings.phone_cache_path)
        self._last_heartbeat: float | None = None  # monotonic time; None until the first one
        self._store: DeliveryStore | None = None
        self._counts_since: float | None = None  # journal time of the last counts written
        self._last_prune: float | None = None
        self._protection: tuple[float, str | None] | None = None  # (monotonic time, problem)
        self._confirmations: ConfirmationSender | None = None
        self.monitor: Monitor | None = None  # set by `watch`: heartbeat file, pings, watchdog
        self._privacy_file: JournalFile | None = None
        self._suppressions: SuppressionList | None = None
        self._account_error: str | None = None  # the last failure to read it (logged once)
        self._sms_only: dict[str, str] = {}  # alert id → why it goes by SMS only
        self._outbound: dict[str, str] = {}  # the `Etat` lines of sends and costs last written

    @property
    def journal(self) -> Journal:
        if self._journal is None:
            self._journal = Journal.from_settings(self.settings)
        return self._journal

    @property
    def privacy_file(self) -> JournalFile:
        """The journal file, for the suppression list and the retention periods."""
        if self._privacy_file is None:
            self._privacy_file = JournalFile(self.settings.journal)
        return self._privacy_file

    def _suppression_list(self) -> SuppressionList:
        """Numbers erased after an unsubscription, read afresh for each cycle."""
        if self._suppressions is None:
            self._suppressions = SuppressionList.load(self.settings, self.privacy_file)
            return self._suppressions
        return self._suppressions.refresh(self.privacy_file)

    def purge(self) -> PurgeReport | None:
        """Apply the retention periods (`surveiller` does once a day); None when the register
        or the journal could not be reached (tried again the next day)."""
        try:
            report = purge(self.register, self.settings, now=self.clock(),
                           phone=self.phone_cache, journal=self.privacy_file)
        except AlerteError as error:
            log.warning("purge des données reportée : %s", error.message)
            return None
        for line in report.lines():
            log.info("purge : %s", line)
        return report

    @property
    def store(self) -> DeliveryStore:
        """The webhook events (statuses, incoming messages) in the journal file."""
        if self._store is None:
            self._store = DeliveryStore(self.settings.journal, synchronous="NORMAL")
        return self._store

    def planner(
        self, channels: tuple[str, ...] | None = None, follow_ups: frozenset[str] = frozenset()
    ) -> Planner:
        return Planner(
            channels=channels or self.channels.names(),
            stale_hours=self.settings.stale_hours,
            phone=self.phone_cache,
            suppressed=self._suppression_list(),
            has_started=self.journal.has_started,
            confirmation_days=self.settings.confirmation_days,
            confirmation_failures=lambda: confirmation_failures(self.journal),
            follow_ups=follow_ups,
            reached=self.journal.reached,
            first_sent=self._first_sent,
            audience=self._audience,
        )

    def _first_sent(self, alert_id: str) -> float | None:
        """When an alert's first message was accepted (for its follow-ups)."""
        times = self.journal.send_times([alert_id]).get(alert_id)
        return None if times is None else times[0]

    def _audience(self) -> Audience:
        """The channels an alert would go through now, for the `controle` line."""
        settings = self.settings
        fallback = (
            settings.channel == "whatsapp" and bool(settings.sms_api_key) and settings.sms_fallback
        )
        since = time.time() - AUDIENCE_DAYS * 86_400
        return Audience(
            settings.channel,
            fallback=fallback,
            without_whatsapp=frozenset(self.journal.without_whatsapp(since)) if fallback
            else frozenset(),
            rates=settings.rates,
        )

    def _sms_codes(self) -> tuple[str, ...]:
        """WhatsApp refusals sent again by SMS, when an SMS fallback is configured."""
        return SMS_CODE_TEXTS if self.channels.fallback else ()

    def _follow_ups(self) -> frozenset[str]:
        """« diffusée » alerts a status webhook left work for (recent ones only)."""
        since = time.time() - self.settings.stale_hours * 3600
        return frozenset(self.journal.follow_ups(since, self._sms_codes()))

    # -- read-only commands --------------------------------------------------------------

    def snapshot(
        self, channels: tuple[str, ...] | None = None, follow_ups: frozenset[str] = frozenset()
    ) -> tuple[Snapshot, list[CellChange]]:
        tables = self.register.read(ALL_TABS)
        return self.planner(channels, follow_ups).snapshot(tables, self.clock())

    def verify(self) -> list[AlertPlan]:
        """Every alert row with its verdict; nothing is written or sent."""
        snapshot, _ = self.snapshot(channels=(self.settings.channel,))
        return snapshot.plans

    def stopped_warning(self) -> str | None:
        """The `Alertes` banner's warning for a local register (a Google sheet computes it
        itself): « Envoi arrêté depuis … » when `Etat`'s heartbeat is over 3 minutes old."""
        if is_google_sheet(self.settings.register):
            return None
        etat = self.register.read([schema.ETAT])[schema.ETAT]
        return stopped_warning(etat, self.clock())

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
        # Before the read, so that this very cycle's cleaning applies them: opt-outs make the
        # member `desinscrit`, taps on the confirmation button fill `confirme_le`.
        tabs = RequestTabs(self.register, self.phone_cache, now)
        replies = self._handle_inbox(tabs, report)
        report.optouts = self._record_optouts(tabs)
        report.button_confirmations = self._record_button_confirmations()
        counted_at = time.time()
        account = self._account()
        snapshot, changes = self.snapshot(follow_ups=self._follow_ups())
        report.rows = snapshot.cleaning.rows
        report.statuses = dict(snapshot.cleaning.statuses)
        report.cleaning_changes = len(snapshot.cleaning.changes)
        would_send = any(
            p.status == schema.A_DIFFUSER and not p.follow_up for p in snapshot.plans
        )
        previous = self._protection[1] if self._protection else None
        report.protection_problem = self._authority(snapshot.tables, force=would_send)
        if would_send and report.protection_problem:
            refuse_plans(snapshot.plans, report.protection_problem)
        self._hold_unapproved(snapshot.plans, account)
        plans = triage(snapshot.plans)
        report.refused = plans.refused
        changes += plans.changes
        if changes:
            self.register.write(changes)  # refusals and « en cours » before anything is sent
        # Only what the confirmations, the counts and `Etat` need is kept past this point: let
        # the sign-up rows and the cleaning results go before dispatching (hundreds of MB at
        # 100,000 sign-ups).
        etat = snapshot.tables[schema.ETAT]
        alert_rows = snapshot.tables[schema.ALERTES].rows
        pending = snapshot.cleaning.pending
        members = [  # the daily limit's reserve for alerts, when confirmations wait
            r.numero for r in snapshot.cleaning.results.values() if r.statut == ACTIF
        ] if pending else []
        local = self._protection is None
        del snapshot, changes
        self.phone_cache.save()
        final: list[CellChange] = []
        for plan in plans.ready:
            result = self._dispatch(plan)
            report.dispatched.append((plan, result))
            cells = result_cells(plan, result, self.journal.summary(plan.alert_id),
                                 self.clock(), delivery=self.settings.webhooks)
            final += self._with_sms_motif(plan, cells)
        final += self._count_cells(alert_rows, {plan.alert_id for plan in plans.ready})
        final += self._cancelled_cells(alert_rows, {plan.alert_id for plan in plans.ready})
        self._acknowledge_optouts()
        self._send_replies(replies)
        self._send_confirmations(pending, members, now, report)
        del members
        outbound = self._outbound_lines(pending)
        report.seconds = time.monotonic() - started
        if not self._write_results(final, etat, report, now, previous=previous, local=local,
                                   account=account, outbound=outbound):
            return report
        self._counts_since = counted_at
        self._prune()
        return report

    def _write_results(
        self, final: list[CellChange], etat: Table, report: CycleReport, now: datetime, *,
        previous: str | None, local: bool, account: Account | None, outbound: dict[str, str],
    ) -> bool:
        """Write the cycle's results and `Etat` (heartbeat, warnings, Meta's account, sends and
        costs) when something changed or the heartbeat is due; False when the register refused
        them."""
        warning_changed = report.protection_problem != previous
        account_rows = etat_values(account) if account is not None else {}
        warning_changed = (
            warning_changed or _differs(etat, account_rows)
            or outbound.get("confirmations_sortantes")
            != self._outbound.get("confirmations_sortantes")
        )
        self._outbound = outbound
        if final or warning_changed or self._heartbeat_due():
            protection = (
                LOCAL_REGISTER_NOTE if local
                else f"ATTENTION : {report.protection_problem}" if report.protection_problem
                else "en place"
            )
            etat_changes, missing = heartbeat_cells(
                etat, report.summary(), now, socket.gethostname(), protection=protection,
                extra={**account_rows, **outbound},
            )
            final += etat_changes
            try:
                if final:
                    self.register.write(final)
                if missing:
                    self.register.append(schema.ETAT, missing)
                self._last_heartbeat = time.monotonic()
            except RegisterError as error:
                # The journal knows what was sent: the next cycle writes the results again.
                report.write_error = error.message
                log.warning("écriture des résultats reportée : %s", error.message)
                return False
        return True

    # -- authority and confirmations -----------------------------------------------------

    def _authority(self, tables: dict[str, Table], *, force: bool) -> str | None:
        """What is wrong with the protection of `Alertes` (Google Sheets), or None. Read afresh
        when a dispatch would follow (`force`), else at most every `PROTECTION_SECONDS`."""
        cached = self._protection
        if not force and cached is not None and (
            time.monotonic() - cached[0] < PROTECTION_SECONDS
        ):
            return cached[1]
        try:
            protections = self.register.protections()
        except RegisterError as error:
            problem = f"protection de l'onglet Alertes impossible à vérifier ({error.message})"
        else:
            if protections is None:
                return None  # a local register: nothing to check (see LOCAL_REGISTER_NOTE)
            officers = officer_emails(r.values for r in tables[schema.HABILITATIONS].rows)
            problem = protection_problem(protections, officers)
        self._protection = (time.monotonic(), problem)
        if problem:
            log.warning("Diffusion bloquée : %s", problem)
        return problem

    def _outbound_lines(self, pending: list[ConfirmationRequest]) -> dict[str, str]:
        """`Etat` lines: messages sent today and this month with their estimated cost, and the
        state of outbound confirmations (budget, fraud brake, SMS ceiling)."""
        moment = self.journal.clock()
        try:
            lines = etat_figures(self.journal, self.settings.rates, moment)
            state = outbound_state(
                self.settings, self.journal, {r.message_id for r in pending}, moment
            )
        except AlerteError as error:
            log.warning("compteurs d'envoi illisibles : %s", error.message)
            return {}
        lines["confirmations_sortantes"] = state.etat()
        return lines

    def _sms_ceiling_blocks_alerts(self) -> bool:
        """ALERTE_PLAFOND_SMS_ALERTES=bloquer and this month's SMS parts reached the ceiling."""
        limits = self.settings.limits
        if not limits.sms_alerts_blocked:
            return False
        month = self.journal.counts_since(month_start(self.journal.clock()))
        return sms_parts(month) >= limits.sms_parts_per_month

    def _mark_asked(self, pending: list[ConfirmationRequest]) -> list[ConfirmationRequest]:
        """Flag `envoi_demande` on the requests whose person asked for an SMS on the page."""
        if not pending or not self.settings.reverse_confirmation:
            return pending
        try:
            asked = SmsRequests(self.journal.file).asked()
            secret = load_secret(self.settings) if asked else b""
        except AlerteError as error:
            log.warning("demandes de SMS illisibles : %s", error.message)
            return pending
        return mark_asked(pending, asked, secret)

    def _send_confirmations(
        self,
        pending: list[ConfirmationRequest],
        members: list[str],
        now: datetime,
        report: CycleReport,
    ) -> None:
        pending = outbound(
            self._mark_asked(pending), reverse_confirmation=self.settings.reverse_confirmation
        )
        if not pending:
            return
        if self._confirmations is None:
            self._confirmations = ConfirmationSender(self.settings, self.journal, self.channels)
        try:
            sent = self._confirmations.send(pending, members, now)
        except AlerteError as error:  # the alerts' results must still be written
            report.notes.append(f"Messages de confirmation non envoyés : {error.message}")
            log.warning("Messages de confirmation non envoyés : %s", error.message)
            return
        report.confirmations_sent = sent.sent
        report.notes.extend(sent.notes)

    # -- status webhooks, opt-outs and button confirmations ------------------------------

    def _count_cells(self, rows: list[Row], dispatched: set[str]) -> list[CellChange]:
        """The counts status webhooks changed since the last cycle (at the first cycle, those of
        the alerts of the last `ALERTE_PEREMPTION_HEURES`), for alerts not dispatched in this
        one."""
        if self._counts_since is None:
            since = time.time() - self.settings.stale_hours * 3600
        else:
            since = self._counts_since - CLOCK_MARGIN
        changed = self.journal.alerts_changed_since(since) - dispatched
        if not changed:
            return []
        cells: list[CellChange] = []
        for row in rows:
            alert_id = row.get("id").strip()
            if alert_id in changed and row.get("statut").strip().lower() in FOLLOWED_STATUSES:
                cells += status_cells(row, self.journal.summary(alert_id),
                                      delivery=self.settings.webhooks)
        return cells

    def _handle_inbox(self, tabs: RequestTabs, report: CycleReport) -> list[tuple[str, str]]:
        """Codes and sign-up conversations received on WhatsApp (`conversation.inbox`); the
        answers to send once the alerts are out."""
        try:
            done = Inbox(
                self.store, tabs, secret=lambda: load_secret(self.settings),
                days=self.settings.confirmation_days, clock=self.status_clock,
                site_url=self.settings.site_url,
            ).handle()
        except AlerteError as error:
            log.warning("messages WhatsApp reportés : %s", error.message)
            return []
        report.code_confirmations = done.confirmed
        report.whatsapp_signups = done.signups
        return done.replies

    def _send_replies(self, replies: list[tuple[str, str]]) -> None:
        """Free-form answers inside the 24-hour window (WhatsApp only; 131047 outside it)."""
        reply = getattr(self.channels.primary, "reply", None)
        if not replies or self.settings.channel != "whatsapp" or reply is None:
            return
        for numero, text in replies:
            try:
                reply(numero, text)
            except AlerteError as error:
                log.warning("Réponse WhatsApp non envoyée à %s : %s",
                            mask_phone(numero), error.message)

    def _cancelled_cells(self, rows: list[Row], dispatched: set[str]) -> list[CellChange]:
        """Rows an officer set « annulée » since the last cycle: how many messages went."""
        cells: list[CellChange] = []
        for row in rows:
            alert_id = row.get("id").strip()
            if alert_id and alert_id not in dispatched and is_cancelled(row):
                cells += cancelled_cells(row, self.journal.summary(alert_id),
                                         delivery=self.settings.webhooks)
        return cells

    def _watch(self, plan: AlertPlan) -> Callable[[], str | None]:
        """What a long dispatch calls once per poll: re-read the alert's row (one read); if the
        officer set it « annulée », say so (the dispatch stops claiming recipients); otherwise
        write its progress, `envoyes` and `echecs` (one write, only when they changed)."""

        alert_id = plan.alert_id

        def check() -> str | None:
            try:
                table = self.register.reread([schema.ALERTES])[schema.ALERTES]
                row = next((r for r in table.rows if r.get("id").strip() == alert_id), None)
                if row is None:
                    return None
                if fold(row.get("statut")[:40]) == fold(schema.ANNULEE):
                    log.info("Alerte %s annulée pendant l'envoi.", alert_id)
                    return "alerte annulée par un agent pendant l'envoi"
                counts = count_cells(self.journal.summary(alert_id), delivery=False)
                # Compared with the row as it is now, written where the cycle's read found it
                # (the write finds it again by identity).
                changes = [c._replace(key=plan.row.key) for c in alert_cells(row, **counts)]
                if changes:
                    self.register.write(changes)
            except AlerteError as error:  # the dispatch goes on; the next poll tries again
                log.warning("relecture de l'alerte %s reportée : %s", alert_id, error.message)
            return None

        return check

    def _record_optouts(self, tabs: RequestTabs) -> int:
        """Opt-outs received on WhatsApp → `Desinscriptions` (one append, only when some, and
        only for members and pending requests)."""
        try:
            return OptOuts(self.store, clock=time.time).record(self.register, tabs.known)
        except AlerteError as error:
            log.warning("désinscriptions WhatsApp reportées : %s", error.message)
            return 0

    def _record_button_confirmations(self) -> int:
        """Taps on the WhatsApp confirmation button → `confirme_le` of their request (one read
        and one write of the request tabs, only when some)."""
        try:
            return ButtonConfirmations(
                self.store, secret=lambda: load_secret(self.settings), clock=self.clock
            ).record(self.register)
        except AlerteError as error:
            log.warning("confirmations WhatsApp reportées : %s", error.message)
            return 0

    def _acknowledge_optouts(self) -> None:
        """One short answer to each member who wrote « STOP » (WhatsApp only)."""
        if self.settings.channel != "whatsapp":
            return
        channel = self.channels.primary
        reply = getattr(channel, "reply", None)
        if reply is None:
            return
        try:
            answered = OptOuts(self.store, clock=time.time).acknowledge(reply)
            if answered:
                self.journal.add_count(ACCUSE, "whatsapp", answered)
        except AlerteError as error:
            log.warning("accusés de désinscription reportés : %s", error.message)

    def _prune(self) -> None:
        last = self._last_prune
        if last is not None and time.monotonic() - last < PRUNE_SECONDS:
            return
        self._last_prune = time.monotonic()
        try:
            self.store.prune()
        except AlerteError as error:
            log.warning("nettoyage des statuts reporté : %s", error.message)

    def _heartbeat_due(self) -> bool:
        last = self._last_heartbeat
        return last is None or time.monotonic() - last >= HEARTBEAT_SECONDS

    def _dispatch(self, plan: AlertPlan) -> DispatchReport:
        blocked = self._sms_ceiling_blocks_alerts()
        sms_only = plan.alert_id in self._sms_only and self.channels.fallback is not None
        if blocked and (self.settings.channel == "sms" or sms_only):
            # ALERTE_PLAFOND_SMS_ALERTES=bloquer: the alert waits « en cours », tried again at
            # every cycle (next month, or once the ceiling is raised).
            return DispatchReport(
                plan.alert_id, recipients=len(plan.recipients), not_sent=len(plan.recipients),
                paused_motif=SMS_CEILING_MOTIF,
            )
        dispatcher = Dispatcher(
            self.journal,
            self.channels.fallback if sms_only else self.channels.primary,  # type: ignore[arg-type]
            fallback=None if sms_only or blocked else self.channels.fallback,
            concurrency=self.settings.concurrency,
            daily_limit=self.channels.daily_limit,
            over_limit_policy=self.settings.over_limit_policy,
            progress=self._progress,
            console=self.console,
            webhooks=self.settings.webhooks,
            status_wait=self.settings.status_wait,
            clock=self.status_clock,
            on_progress=self.monitor.progress if self.monitor else None,
        )
        messages = AlertMessages(
            plan.alert_id, plan.messages[self.settings.channel], plan.messages.get("sms")
        ) if not sms_only else AlertMessages(plan.alert_id, plan.messages["sms"], None)
        if plan.follow_up:
            numeros = self.journal.follow_up_recipients(plan.alert_id, self._sms_codes())
        else:
            numeros = [m.numero for m in plan.recipients]
        return dispatcher.dispatch(
            plan.alert_id, numeros, messages, retry_failed=plan.retrigger,
            watch=self._watch(plan), watch_seconds=self.settings.poll_seconds,
        )

    # -- what Meta says of the account -----------------------------------------------------

    def refresh_account(self) -> None:
        """Read the messaging limit and quality rating from Meta's API and keep them in the
        journal file (the `surveiller` loop calls it at start and hourly; webhooks update them
        in between). A failure is logged once and never stops a cycle."""
        settings = self.settings
        if settings.channel != "whatsapp" or not (
                settings.whatsapp_token and settings.whatsapp_phone_id):
            return
        try:
            phone = read_phone_number(settings.whatsapp_api, settings.whatsapp_phone_id,
                                      settings.whatsapp_token, min(settings.http_timeout, 10.0))
            save_account(self.store, phone_events(phone))
            self._account_error = None
        except AlerteError as error:
            if error.message != self._account_error:  # logged once, not every hour
                log.warning("plafond WhatsApp non lu chez Meta : %s", error.message)
            self._account_error = error.message

    def _account(self) -> Account | None:
        """What the journal knows of the WhatsApp account (WhatsApp only); sets the daily cap
        from Meta's messaging limit unless WHATSAPP_PLAFOND_JOURNALIER is set."""
        if self.settings.channel != "whatsapp":
            return None
        try:
            account = read_account(self.store)
        except AlerteError as error:
            log.warning("état du compte WhatsApp illisible : %s", error.message)
            return None
        self.channels.meta_limit = account.daily_limit
        self.channels.meta_unlimited = account.unlimited
        return account

    def _hold_unapproved(self, plans: list[AlertPlan], account: Account | None) -> None:
        """An alert whose WhatsApp template Meta paused, disabled or rejected goes entirely by
        SMS when SMS is configured; otherwise it becomes « erreur » before any message."""
        self._sms_only = {}
        if account is None:
            return
        for plan in plans:
            message = plan.messages.get("whatsapp")
            if plan.status != schema.A_DIFFUSER or message is None or not message.template:
                continue
            blocked = account.blocked(message.template, message.language)
            if blocked is None:
                continue
            why = (f"le modèle WhatsApp « {blocked.name} » ({blocked.language}) est "
                   f"{blocked.event} chez Meta"
                   f"{f' ({blocked.reason})' if blocked.reason else ''}")
            if self.channels.fallback is not None and "sms" in plan.messages:
                self._sms_only[plan.alert_id] = f"Envoyée par SMS seulement : {why}."
            else:
                plan.status, plan.error = schema.REFUSEE, True
                plan.motif = (
                    f"Rien n'a été envoyé : {why}. Le corriger ou le faire réexaminer dans le "
                    "WhatsApp Manager (ou configurer le SMS de secours), puis remettre la "
                    "ligne « à diffuser »."
                )

    def _with_sms_motif(self, plan: AlertPlan, cells: list[CellChange]) -> list[CellChange]:
        """The result cells, the motif saying why the alert went by SMS only."""
        why = self._sms_only.get(plan.alert_id)
        if why is None:
            return cells
        others = [c for c in cells if c.column != "motif"]
        motif = next((c.value for c in cells if c.column == "motif"), plan.row.get("motif"))
        if motif.startswith(why):
            return cells
        text = f"{why} {motif}".strip() if motif and "en cours" not in motif else why
        return [*others, CellChange(schema.ALERTES, plan.row.key, "motif", text)]

    # -- the loop ------------------------------------------------------------------------

    def watch(self, stop: threading.Event, on_cycle: Callable[[CycleReport], None]) -> None:
        """Run a cycle now, then every `poll_seconds`, until `stop` is set. Each cycle is told
        to the monitor (heartbeat file, pings, systemd). A setting error (`ConfigurationError`:
        missing token, unreadable credentials) ends the loop: retrying cannot help."""
        monitor = self.monitor = Monitor(
            self.settings.data_dir, self.settings.poll_seconds, ping_url=self.settings.ping_url
        )

        def cycle() -> None:
            monitor.cycle_started()
            try:
                report = self.run_once()
            except ConfigurationError as error:
                monitor.cycle_failed(error.message)
                raise
            except AlerteError as error:
                self._skipped(error.message)
            except (OSError, sqlite3.Error) as error:  # a disk problem outside the stores
                self._skipped(f"erreur du disque ({type(error).__name__}) ; rien n'a été perdu.")
                log.warning("passage ignoré : %s", _where(error))
            except Exception as error:  # the loop must outlive any single pass
                self._skipped(f"erreur inattendue ({type(error).__name__}) ; rien n'a été perdu.")
                log.error("passage ignoré, erreur inattendue : %s", _where(error))
            else:
                if report.write_error:
                    monitor.cycle_failed(f"résultats non écrits : {report.write_error}")
                else:
                    monitor.cycle_succeeded(report.summary())
                on_cycle(report)

        def purge_job() -> None:
            try:
                self.purge()
            except Exception as error:  # the loop must outlive a failed purge
                log.error("purge des données reportée : %s", _where(error))

        scheduler = schedule.Scheduler()
        scheduler.every(self.settings.poll_seconds).seconds.do(cycle)
        scheduler.every(1).days.do(purge_job)  # retention periods (sender/privacy/)
        scheduler.every(ACCOUNT_READ_SECONDS).seconds.do(self.refresh_account)
        self.refresh_account()
        monitor.start()
        try:
            cycle()
            purge_job()
            while not stop.wait(scheduler.idle_seconds):
                scheduler.run_pending()
        finally:
            monitor.close()
            self.monitor = None

    def _skipped(self, reason: str) -> None:
        if self.monitor is not None:
            self.monitor.cycle_failed(reason)
        again = "" if "nouvel essai" in reason.lower() else (
            f" Nouvel essai dans {self.settings.poll_seconds:g} s."
        )
        self.console.print(f"[yellow]Passage ignoré :[/yellow] {escape(reason)}{again}")

    def close(self) -> None:
        self.channels.close()
        if self._journal is not None:
            self._journal.close()
        if self._store is not None:
            self._store.close()
        if self._privacy_file is not None:
            self._privacy_file.close()
