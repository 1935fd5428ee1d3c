"""The sender cycle's decisions, without any I/O: what to do with one read of the register.

From the tables of one read, `Planner.snapshot` cleans the sign-ups and plans every `Alertes`
row (verdict, motif, messages per channel, recipients); `Planner.plan_one` plans a single row
with a forced status (`apercu`). A « diffusée » alert that status webhooks left work for (SMS
fallback after a `failed` status…) is planned as a follow-up; an alert put back to « à
diffuser » after a first dispatch as a re-dispatch; a « suite » or « fin d'alerte » row
as a follow-up of its `suite_de` (to the members that alert reached); every « brouillon » row
gets its `controle` line. The cell functions turn plans, dispatch
reports and journal summaries into the register changes: refusals and « en cours » before any
send (`triage`), results after the dispatch (`result_cells`), counts the webhooks changed
(`status_cells`), the `Etat` heartbeat (`heartbeat_cells`). `CycleReport` records what a cycle
did and words its one-line summary. `runner.Sender` reads the register, sends and writes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sender import schema
from sender.alerts.compose import ComposedMessage, Composer, TemplateProblem
from sender.alerts.model import VERDICT_IGNORED, Alert, Verdict
from sender.alerts.officers import active_officers
from sender.alerts.preflight import Audience, controle_line, timing_note
from sender.alerts.rules import check_alert, is_to_send
from sender.alerts.sequel import Original, check_sequel, sequel_note, sequel_type
from sender.alerts.targeting import Member, member_from_row, select_recipients
from sender.cleaning.inscriptions import (
    DEFAULT_CONFIRMATION_DAYS,
    CleaningReport,
    PhoneParser,
    Suppressed,
    clean_inscriptions,
)
from sender.dates import PARIS, format_french
from sender.dispatch.report import DispatchReport
from sender.domain.phones import parse_phone
from sender.errors import InputError
from sender.journal.states import PENDING, SENT, UNCERTAIN, AlertSummary
from sender.register.ids import next_free_id
from sender.tables import CellChange, Row, Table
from sender.text import cell_text, fold, plural

ALL_TABS = (
    schema.INSCRIPTIONS, schema.DESINSCRIPTIONS, schema.ALERTES, schema.MODELES,
    schema.HABILITATIONS, schema.ETAT,
)
RESUMING_STATUSES = {schema.EN_COURS}
TO_SEND = (schema.A_DIFFUSER, "a diffuser")
# Alerts whose counts the status webhooks may still change.
FOLLOWED_STATUSES = (schema.DIFFUSEE, schema.EN_COURS, schema.ERREUR)


@dataclass
class AlertPlan:
    """What the cycle decided for one `Alertes` row."""

    row: Row
    alert_id: str
    status: str  # « à diffuser », « refusée », « ignorée »
    motif: str = ""
    alert: Alert | None = None
    recipients: list[Member] = field(default_factory=list)
    messages: dict[str, ComposedMessage] = field(default_factory=dict)
    error: bool = False  # template problem: statut « erreur » rather than « refusée »
    follow_up: bool = False  # « diffusée »: only what status webhooks left to do (SMS fallback)
    retrigger: bool = False  # put back to « à diffuser » after a first dispatch
    original: Row | None = None  # a follow-up (« suite », « fin d'alerte »): the row it follows
    sequel_sent: datetime | None = None  # a follow-up: when its original went out

    @property
    def shown_status(self) -> str:
        """What `verifier` shows: an alert already handled (« diffusée », « en cours »,
        « refusée », « erreur ») is shown with its status, not as « ignorée »."""
        if self.status == VERDICT_IGNORED:
            status = fold(self.row.get("statut"))
            for known in (schema.DIFFUSEE, schema.EN_COURS, schema.REFUSEE, schema.ERREUR,
                          schema.ANNULEE):
                if status == fold(known):
                    return known
        return self.status

    @property
    def shown_motif(self) -> str:
        """The motif found now, or the one the row already carries for a handled alert."""
        if self.motif or self.shown_status == self.status:
            return self.motif
        return self.row.get("motif")

    @property
    def shown_recipients(self) -> int:
        """The recipients found now, or the count the row carries for a handled alert (the
        table of `verifier` and its `--json` show the same number)."""
        if self.shown_status == self.status:
            return len(self.recipients)
        text = self.row.get("destinataires").strip()
        return int(text) if text.isdigit() else 0

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.alert_id,
            "verdict": self.shown_status,
            "motif": self.shown_motif,
            "destinataires": self.shown_recipients,
        }


@dataclass
class Snapshot:
    """Everything one read of the register gives the cycle."""

    tables: dict[str, Table]
    cleaning: CleaningReport
    plans: list[AlertPlan]


@dataclass
class _Context:
    """What every alert row is checked and planned against."""

    cleaning: CleaningReport
    members: list[Member]
    officers: Mapping[str, object]
    composer: Composer
    alerts: dict[str, Row] = field(default_factory=dict)  # the first row of each alert id


def _alert_ids(rows: Iterable[Row]) -> tuple[dict[int, str], list[CellChange]]:
    """Every alert row's id; rows without one get the next free integer."""
    rows = list(rows)
    following = next_free_id(r.get("id") for r in rows)
    ids: dict[int, str] = {}
    changes: list[CellChange] = []
    for row in rows:
        value = row.get("id").strip()
        if not value:
            value = str(following)
            following += 1
            changes.append(CellChange(schema.ALERTES, row.key, "id", value))
        ids[row.key] = value
    return ids, changes


def members_after_cleaning(inscriptions: Table, cleaning: CleaningReport) -> list[Member]:
    """Members as they are once this cycle's cleaning results are applied."""
    members: list[Member] = []
    for row in inscriptions.rows:
        result = cleaning.results.get(row.key)
        if result is None or result.statut != schema.ACTIF:
            continue
        values = dict(row.values)
        values.update(cleaning.corrections.get(row.key, {}))
        values.update(result.as_dict())
        member = member_from_row(values)
        if member is not None:
            members.append(member)
    return members


class Planner:
    """Pure decisions over one snapshot of the register (no I/O), shared by `verifier`,
    `apercu` and `envoyer`."""

    def __init__(
        self,
        *,
        channels: tuple[str, ...],
        stale_hours: float,
        phone: PhoneParser = parse_phone,
        has_started: Callable[[str], bool] = lambda _alert_id: False,
        confirmation_days: float = DEFAULT_CONFIRMATION_DAYS,
        confirmation_failures: Callable[[], Mapping[tuple[str, str], str]] = dict,
        follow_ups: Collection[str] = (),
        reached: Callable[[str], Sequence[str]] = lambda _alert_id: (),
        first_sent: Callable[[str], float | None] = lambda _alert_id: None,
        audience: Callable[[], Audience] | None = None,
        suppressed: Suppressed | None = None,
    ) -> None:
        """`reached` and `first_sent` read the journal for follow-ups (the numbers an alert
        reached, when it first went out); `audience` gives the channels for `controle`."""
        self.suppressed = suppressed
        self.channels = channels
        self.stale_hours = stale_hours
        self.phone = phone
        self.has_started = has_started
        self.confirmation_days = confirmation_days
        self.confirmation_failures = confirmation_failures
        self.follow_ups = follow_ups
        self.reached = reached
        self.first_sent = first_sent
        self.audience = audience or (lambda: Audience(channels[0] if channels else "outbox"))

    def snapshot(
        self, tables: dict[str, Table], now: datetime
    ) -> tuple[Snapshot, list[CellChange]]:
        """Plans for every alert row, and the changes to write: cleaning results, new ids."""
        context = self._context(tables, now)
        alert_rows = tables[schema.ALERTES].rows
        ids, id_changes = _alert_ids(alert_rows)
        seen: set[str] = set()
        plans = []
        for row in alert_rows:
            alert_id = ids[row.key]
            duplicate = alert_id in seen
            seen.add(alert_id)
            plans.append(self._plan(row, alert_id, context, now, duplicate=duplicate))
        changes = list(context.cleaning.changes) + id_changes
        changes += self._controle_cells(alert_rows, ids, context, now)
        return Snapshot(tables, context.cleaning, plans), changes

    def _controle_cells(
        self, rows: Iterable[Row], ids: Mapping[int, str], context: _Context, now: datetime
    ) -> list[CellChange]:
        """The `controle` line of every « brouillon » row, written only where it changed."""
        audience: Audience | None = None
        changes: list[CellChange] = []
        for row in rows:
            if fold(row.get("statut")[:40]) != schema.BROUILLON or "controle" not in row.values:
                continue
            if audience is None:
                audience = self.audience()
            plan = self._plan(row, ids[row.key], context, now, forced_status=schema.A_DIFFUSER)
            line = controle_line(
                status=plan.status, motif=plan.motif, error=plan.error,
                numeros=[m.numero for m in plan.recipients], messages=plan.messages,
                audience=audience,
                timing=timing_note(row.values, now=now, stale_hours=self.stale_hours,
                                   sequel_sent=plan.sequel_sent),
                suite_de=plan.original.get("id").strip() if plan.original is not None else "",
            )
            changes += alert_cells(row, controle=line)
        return changes

    def plan_one(
        self, tables: dict[str, Table], alert_id: str, now: datetime, *, status: str
    ) -> AlertPlan:
        """The plan of the first row with this id, as if its status were `status`."""
        wanted = alert_id.strip()
        row = next((r for r in tables[schema.ALERTES].rows if r.get("id").strip() == wanted), None)
        if row is None:
            raise InputError(f"Aucune alerte avec l'identifiant « {alert_id} ».")
        return self._plan(row, wanted, self._context(tables, now), now, forced_status=status)

    def _context(self, tables: dict[str, Table], now: datetime) -> _Context:
        cleaning = clean_inscriptions(
            tables[schema.INSCRIPTIONS],
            tables[schema.DESINSCRIPTIONS],
            phone=self.phone,
            now=now,
            confirmation_days=self.confirmation_days,
            confirmation_failures=self.confirmation_failures(),
            suppressed=self.suppressed,
        )
        alerts: dict[str, Row] = {}
        for row in tables[schema.ALERTES].rows:
            alerts.setdefault(row.get("id").strip(), row)
        return _Context(
            cleaning,
            members_after_cleaning(tables[schema.INSCRIPTIONS], cleaning),
            active_officers(r.values for r in tables[schema.HABILITATIONS].rows),
            Composer(r.values for r in tables[schema.MODELES].rows),
            alerts,
        )

    def _plan(
        self,
        row: Row,
        alert_id: str,
        context: _Context,
        now: datetime,
        *,
        duplicate: bool = False,
        forced_status: str | None = None,
    ) -> AlertPlan:
        values = dict(row.values)
        if forced_status is not None:
            values["statut"] = forced_status
        if row.unreadable and is_to_send(values.get("statut")):
            return AlertPlan(
                row, alert_id, schema.REFUSEE,
                f"{row.unreadable_remark().capitalize()}, puis remettre « {schema.A_DIFFUSER} ».",
            )
        status = values.get("statut", "").strip().lower()
        follow_up = (
            forced_status is None and status == schema.DIFFUSEE and alert_id in self.follow_ups
        )
        resuming = status in RESUMING_STATUSES or follow_up
        if resuming:
            values["statut"] = schema.A_DIFFUSER
            # « en cours » typed by hand, or a crash before the first send: check afresh.
            resuming = self.has_started(alert_id)
        if follow_up:
            plan = self._plan_checked(row, alert_id, values, context, now, resuming=True)
            plan.follow_up = True
            if plan.status != schema.A_DIFFUSER:
                return AlertPlan(row, alert_id, "ignorée")
            return plan
        if duplicate and status in TO_SEND:
            return AlertPlan(
                row, alert_id, schema.REFUSEE,
                f"Identifiant « {alert_id} » déjà utilisé par une autre ligne : donner un "
                "identifiant unique à cette alerte.",
            )
        plan = self._plan_checked(row, alert_id, values, context, now, resuming=resuming)
        plan.retrigger = (
            forced_status is None and status in TO_SEND and plan.status == schema.A_DIFFUSER
            and self.has_started(alert_id)
        )
        return plan

    def _plan_checked(
        self,
        row: Row,
        alert_id: str,
        values: dict[str, str],
        context: _Context,
        now: datetime,
        *,
        resuming: bool,
    ) -> AlertPlan:
        if sequel_type(values.get("type")) is not None and is_to_send(values.get("statut")):
            return self._plan_sequel(row, alert_id, values, context, now, resuming=resuming)
        verdict: Verdict = check_alert(
            values, officers=context.officers, now=now,
            stale_hours=1e9 if resuming else self.stale_hours,
        )
        if not verdict.accepted or verdict.alert is None:
            return AlertPlan(row, alert_id, verdict.status, verdict.motif)
        alert = verdict.alert
        alert.id = alert_id
        plan = AlertPlan(row, alert_id, schema.A_DIFFUSER, alert=alert)
        if not self._compose(plan, alert, context):
            return plan
        plan.recipients = select_recipients(alert, context.members)
        if not plan.recipients:
            plan.status = schema.REFUSEE
            plan.motif = (
                "Aucun adhérent actif ne correspond au ciblage (zone, communes, activités) : "
                "élargir la cible."
            )
        return plan

    def _compose(self, plan: AlertPlan, alert: Alert, context: _Context) -> bool:
        """The plan's message per channel; False (and the plan refused) on a template problem."""
        try:
            for channel in self.channels:
                plan.messages[channel] = context.composer.compose(alert, channel)
        except TemplateProblem as problem:
            plan.status, plan.motif = schema.REFUSEE, problem.message
            plan.error = not problem.officer_text
            return False
        return True

    def _original(self, row: Row) -> tuple[Original, list[str]]:
        """What a follow-up needs of the row it follows, and the numbers that row reached."""
        alert_id = row.get("id").strip()
        reached = list(self.reached(alert_id))
        first = self.first_sent(alert_id)
        original = Original(
            alert_id=alert_id,
            statut=row.get("statut"),
            type=row.get("type"),
            commune=row.get("commune"),
            lieu=row.get("lieu"),
            sequel_of=row.get("suite_de").strip() if sequel_type(row.get("type")) else "",
            first_sent=None if first is None else datetime.fromtimestamp(first, PARIS),
            reached=len(reached),
        )
        return original, reached

    def _plan_sequel(
        self,
        row: Row,
        alert_id: str,
        values: dict[str, str],
        context: _Context,
        now: datetime,
        *,
        resuming: bool,
    ) -> AlertPlan:
        """A follow-up: checked against its original, sent to the members the original
        reached who are still active (see `alerts/sequel.py`)."""
        wanted = cell_text(values.get("suite_de"))
        original_row = context.alerts.get(wanted) if wanted and wanted != alert_id else None
        original, reached = (None, []) if original_row is None else self._original(original_row)
        verdict = check_sequel(
            values, officers=context.officers, original=original, now=now, resuming=resuming
        )
        if not verdict.accepted or verdict.alert is None or original is None:
            return AlertPlan(row, alert_id, verdict.status, verdict.motif)
        alert = verdict.alert
        alert.id = alert_id
        plan = AlertPlan(row, alert_id, schema.A_DIFFUSER, alert=alert, original=original_row,
                         sequel_sent=original.first_sent)
        if not self._compose(plan, alert, context):
            return plan
        numeros = set(reached)
        chosen: dict[str, Member] = {}
        for member in context.members:
            if member.numero in numeros:
                chosen.setdefault(member.numero, member)
        plan.recipients = list(chosen.values())
        if not plan.recipients:
            plan.status = schema.REFUSEE
            plan.motif = (
                f"Aucun des {plural(len(reached), 'adhérent')} atteints par l'alerte n° "
                f"{original.alert_id} n'est encore inscrit : la suite n'aurait pas de "
                "destinataire."
            )
        return plan


@dataclass
class CycleReport:
    """What one cycle did, for the terminal and the `Etat` tab."""

    started: datetime
    rows: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    cleaning_changes: int = 0
    refused: list[AlertPlan] = field(default_factory=list)
    dispatched: list[tuple[AlertPlan, DispatchReport]] = field(default_factory=list)
    write_error: str | None = None
    seconds: float = 0.0
    confirmations_sent: int = 0
    notes: list[str] = field(default_factory=list)  # confirmations held back, protection…
    protection_problem: str | None = None  # Google Sheets: the `Alertes` protection is wrong
    optouts: int = 0  # opt-outs received on WhatsApp, written to `Desinscriptions`
    button_confirmations: int = 0  # requests confirmed by the WhatsApp button this cycle
    code_confirmations: int = 0  # requests confirmed by a code sent to the WhatsApp number
    whatsapp_signups: int = 0  # sign-ups completed in a WhatsApp conversation

    def summary(self) -> str:
        """One French line, for the terminal and `dernier_bilan` in `Etat`."""
        actifs = self.statuses.get(schema.ACTIF, 0)
        parts = [plural(actifs, "adhérent actif", "adhérents actifs")]
        waiting = self.statuses.get(schema.EN_ATTENTE, 0)
        if waiting:
            parts.append(plural(waiting, "inscription en attente de confirmation",
                                "inscriptions en attente de confirmation"))
        if self.confirmations_sent:
            parts.append(plural(self.confirmations_sent, "message de confirmation envoyé",
                                "messages de confirmation envoyés"))
        dispatched = [result for plan, result in self.dispatched if not plan.follow_up]
        cancelled = sum(1 for result in dispatched if result.cancelled)
        stopped = sum(1 for result in dispatched if result.stopped_motif and not result.cancelled)
        done = sum(
            1 for result in dispatched
            if result.complete and not result.stopped_motif and not result.cancelled
        )
        if done:
            parts.append(plural(done, "alerte diffusée", "alertes diffusées"))
        if stopped:
            parts.append(plural(stopped, "alerte en erreur", "alertes en erreur"))
        if len(dispatched) > done + stopped + cancelled:
            parts.append(plural(len(dispatched) - done - stopped - cancelled, "alerte en cours",
                                "alertes en cours"))
        if cancelled:
            parts.append(plural(cancelled, "alerte annulée pendant l'envoi",
                                "alertes annulées pendant l'envoi"))
        by_sms = sum(r.sent_by_fallback for p, r in self.dispatched if p.follow_up)
        if by_sms:
            parts.append(f"{by_sms} SMS de secours après un échec WhatsApp")
        if self.optouts:
            parts.append(plural(self.optouts, "désinscription reçue par WhatsApp",
                                "désinscriptions reçues par WhatsApp"))
        if self.button_confirmations:
            parts.append(plural(self.button_confirmations, "confirmation reçue par WhatsApp",
                                "confirmations reçues par WhatsApp"))
        if self.code_confirmations:
            parts.append(plural(self.code_confirmations, "demande confirmée par code WhatsApp",
                                "demandes confirmées par code WhatsApp"))
        if self.whatsapp_signups:
            parts.append(plural(self.whatsapp_signups, "inscription faite sur WhatsApp",
                                "inscriptions faites sur WhatsApp"))
        if self.refused:
            parts.append(plural(len(self.refused), "alerte refusée", "alertes refusées"))
        if self.protection_problem:
            parts.append("protection de l'onglet Alertes à corriger")
        if self.write_error:
            parts.append(f"écriture reportée : {self.write_error}")
        return ", ".join(parts)


# -- cell changes -------------------------------------------------------------------------


def alert_cells(row: Row, **values: object) -> list[CellChange]:
    """Cell changes for an alert row, only where the value differs (and, for the columns added
    since the first version, only where the tab has them)."""
    recent = schema.RECENT_COLUMNS[schema.ALERTES]
    return [
        CellChange(schema.ALERTES, row.key, column, str(value))
        for column, value in values.items()
        if row.get(column) != str(value) and (column not in recent or column in row.values)
    ]


def refusal_cells(plan: AlertPlan) -> list[CellChange]:
    status = schema.ERREUR if plan.error else schema.REFUSEE
    return alert_cells(plan.row, statut=status, motif=plan.motif, destinataires=0, controle="")


def in_progress_cells(plan: AlertPlan) -> list[CellChange]:
    """« en cours » with the number of recipients, written before the first send."""
    motif = ""
    if plan.retrigger:
        motif = (
            "Nouvelle diffusion en cours : seuls les adhérents visés pas encore atteints la "
            "reçoivent."
        )
    return alert_cells(
        plan.row, statut=schema.EN_COURS, motif=motif, destinataires=len(plan.recipients),
        controle="",
    )


@dataclass
class Triage:
    """The plans of one snapshot sorted for the cycle, with the cells to write before sending."""

    refused: list[AlertPlan] = field(default_factory=list)
    ready: list[AlertPlan] = field(default_factory=list)
    changes: list[CellChange] = field(default_factory=list)


def refuse_plans(plans: Iterable[AlertPlan], problem: str) -> None:
    """Refuse every plan about to be dispatched: the authority behind the rows is not proven
    (the `Alertes` protection is wrong). An officer sets the row « à diffuser » again once the
    CMA has fixed it, so a row typed by someone else never goes out on its own. Follow-ups of
    an alert already « diffusée » (SMS fallback after a failed WhatsApp status) were authorised
    when it went out: they proceed."""
    for plan in plans:
        if plan.status == schema.A_DIFFUSER and not plan.follow_up:
            plan.status = schema.REFUSEE
            plan.motif = (
                f"Diffusion refusée : {problem} Une fois la protection corrigée, un agent "
                "habilité remet la ligne « à diffuser »."
            )


def triage(plans: Iterable[AlertPlan]) -> Triage:
    """Refused plans get their refusal cells, plans to dispatch their « en cours » cells
    (follow-ups stay « diffusée »); the others (drafts, already sent…) are left alone."""
    result = Triage()
    for plan in plans:
        if plan.status == schema.REFUSEE:
            result.changes += refusal_cells(plan)
            result.refused.append(plan)
        elif plan.status == schema.A_DIFFUSER:
            if not plan.follow_up:
                result.changes += in_progress_cells(plan)
            result.ready.append(plan)
    return result


def count_cells(summary: AlertSummary, *, delivery: bool = True) -> dict[str, object]:
    """The counts of an alert row, from its journal: accepted by the channel (`envoyes`),
    failures (`echecs`), and, when status webhooks are configured (`delivery`), delivered and
    read according to them (left empty otherwise: unknown is not zero)."""
    cells: dict[str, object] = {
        "envoyes": summary.count(SENT),
        "echecs": summary.count("failed"),
    }
    if delivery:
        cells["remis"] = summary.delivered
        cells["lus"] = summary.read
    return cells


def _done_motif(result: DispatchReport, summary: AlertSummary) -> str:
    parts = [result.notes_line()]
    if summary.by_sms:
        parts.append(
            f"Dont {plural(summary.by_sms, 'adhérent joint', 'adhérents joints')} par SMS de "
            "secours (sans WhatsApp)."
        )
    if summary.count("failed"):
        reasons = " ; ".join(f"{n} × {text}" for text, n in summary.failures[:5])
        parts.append(f"Échecs : {reasons}")
    return " ".join(p for p in parts if p)


def result_cells(
    plan: AlertPlan,
    result: DispatchReport,
    summary: AlertSummary,
    now: datetime,
    *,
    delivery: bool = True,
) -> list[CellChange]:
    """The alert row after its dispatch: « diffusée », still « en cours », or « erreur »; the
    counts come from the journal (`summary`), earlier runs and status webhooks included."""
    if result.busy:
        return []
    cells: dict[str, object] = {}
    if result.cancelled:
        status = schema.ANNULEE
        motif = cancel_motif(summary)
    elif result.stopped_motif:
        status = schema.ERREUR
        motif = f"Envoi arrêté : {result.stopped_motif}"
    elif result.complete or plan.follow_up:
        status = schema.DIFFUSEE
        motif = _done_motif(result, summary)
    else:
        status = schema.EN_COURS
        motif = result.notes_line() or "Envoi à reprendre au prochain passage."
    cells["statut"] = status
    cells["motif"] = motif
    if not plan.follow_up:
        cells["destinataires"] = result.recipients
    cells.update(count_cells(summary, delivery=delivery))
    if status == schema.DIFFUSEE and not plan.follow_up:
        cells["diffusee_le"] = format_french(now)
    changes = alert_cells(plan.row, **cells)
    if not plan.follow_up:
        # « en cours » was written over the row before sending (`in_progress_cells`): the row
        # read before is stale for these cells, which are written whatever it showed (a second
        # pause with the same motif used to leave it empty).
        written = {change.column for change in changes}
        changes += [
            CellChange(schema.ALERTES, plan.row.key, column, str(cells[column]))
            for column in ("statut", "motif", "destinataires") if column not in written
        ]
    if status == schema.DIFFUSEE and plan.original is not None and plan.alert is not None:
        changes += sequel_note_cells(plan, now)
    return changes


def sequel_note_cells(plan: AlertPlan, now: datetime) -> list[CellChange]:
    """The original row's `motif` gains « Suite envoyée le … (alerte n° …, agent …) », once."""
    original, alert = plan.original, plan.alert
    if original is None or alert is None:
        return []
    marker = f"(alerte n° {plan.alert_id}"
    if any(marker + end in original.get("motif") for end in (",", ")")):
        return []
    note = sequel_note(alert.type, now, plan.alert_id, alert.agent)
    motif = original.get("motif").strip()
    return alert_cells(original, motif=f"{motif} {note}" if motif else note)


CANCEL_PREFIX = "Annulée"


def cancel_motif(summary: AlertSummary) -> str:
    """What an « annulée » row's `motif` says: how many messages went before the call-off
    (and how many may have gone: answers lost, see docs/architecture.md « Exactly once »)."""
    sent = summary.count(SENT)
    maybe = summary.count(UNCERTAIN) + summary.count(PENDING)
    also = f" (et {maybe} peut-être, réponse perdue)" if maybe else ""
    if sent == 0 and not maybe:
        return f"{CANCEL_PREFIX} avant tout envoi : aucun message n'est parti."
    went = plural(sent, "message parti", "messages partis")
    return (
        f"{CANCEL_PREFIX} : {went}{also} avant l'annulation ; les autres destinataires ne "
        "la recevront pas."
    )


def cancelled_cells(row: Row, summary: AlertSummary, *, delivery: bool = True
                    ) -> list[CellChange]:
    """An alert the officer set « annulée » since the last cycle: its `motif` and counts."""
    return alert_cells(row, motif=cancel_motif(summary),
                       **count_cells(summary, delivery=delivery))


def is_cancelled(row: Row) -> bool:
    """« annulée » whose motif does not say so yet (written once, at the next cycle)."""
    return (fold(row.get("statut")[:40]) == fold(schema.ANNULEE)
            and not row.get("motif").startswith(CANCEL_PREFIX))


def status_cells(row: Row, summary: AlertSummary, *, delivery: bool = True) -> list[CellChange]:
    """The counts a status webhook may have changed, for an alert not dispatched this cycle."""
    return alert_cells(row, **count_cells(summary, delivery=delivery))


def heartbeat_cells(
    etat: Table, summary: str, now: datetime, host: str, *, protection: str | None = None,
    extra: Mapping[str, str] | None = None,
) -> tuple[list[CellChange], list[dict[str, str]]]:
    """Etat rows `dernier_passage`, `dernier_bilan`, `hote` (and `protection_alertes` when
    given, and the `extra` rows: what Meta says of the account, sends and costs): updates, or
    rows to append."""
    stamp = format_french(now)
    wanted = {"dernier_passage": stamp, "dernier_bilan": summary, "hote": host}
    if protection is not None:
        wanted["protection_alertes"] = protection
    wanted.update(extra or {})
    changes: list[CellChange] = []
    present: set[str] = set()
    for row in etat.rows:
        key = row.get("cle")
        if key in wanted:
            present.add(key)
            if row.get("valeur") != wanted[key]:
                changes.append(CellChange(schema.ETAT, row.key, "valeur", wanted[key]))
                changes.append(CellChange(schema.ETAT, row.key, "mis_a_jour", stamp))
    missing = [
        {"cle": k, "valeur": v, "mis_a_jour": stamp} for k, v in wanted.items() if k not in present
    ]
    return changes, missing
