"""One sender cycle: read the register once, clean, check alerts, dispatch, write back.

Google Sheets requests per cycle: one `batchGet`; one `batchUpdate` before dispatching (cleaning
results, refusals, « en cours ») and one after (results, heartbeat). A cycle with nothing new
costs the read only; the heartbeat in `Etat` is refreshed at most every `heartbeat_seconds`.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sender import schema
from sender.alerts.compose import ComposedMessage, Composer, TemplateProblem
from sender.alerts.model import Alert, Verdict
from sender.alerts.rules import active_officers, check_alert
from sender.alerts.targeting import Member, member_from_row, select_recipients
from sender.cleaning.inscriptions import CleaningReport, PhoneCleaner, clean_inscriptions
from sender.cleaning.phones import clean_phone
from sender.dates import format_french
from sender.dates import now as paris_now
from sender.register.base import CellChange, Register, Row, Table
from sender.register.ids import next_free_id

log = logging.getLogger(__name__)

ALL_TABS = (
    schema.INSCRIPTIONS, schema.DESINSCRIPTIONS, schema.ALERTES, schema.MODELES,
    schema.HABILITATIONS, schema.ETAT,
)
IGNORED = "ignorée"
RESUMING_STATUSES = {"en cours"}


@dataclass
class AlertPlan:
    """What the cycle decided for one `Alertes` row."""

    row: Row
    alert_id: str
    verdict: str  # « à diffuser », « refusée », « ignorée »
    motif: str = ""
    alert: Alert | None = None
    recipients: list[Member] = field(default_factory=list)
    messages: dict[str, ComposedMessage] = field(default_factory=dict)
    error: bool = False  # template problem: statut « erreur » rather than « refusée »
    resuming: bool = False

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.alert_id,
            "verdict": self.verdict,
            "motif": self.motif,
            "destinataires": len(self.recipients),
        }


@dataclass
class Snapshot:
    """Everything one read of the register gives the cycle."""

    tables: dict[str, Table]
    cleaning: CleaningReport
    members: list[Member]
    plans: list[AlertPlan]


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
        phone: PhoneCleaner = clean_phone,
        has_started: Callable[[str], bool] = lambda _alert_id: False,
    ) -> None:
        self.channels = channels
        self.stale_hours = stale_hours
        self.phone = phone
        self.has_started = has_started

    def snapshot(
        self, tables: dict[str, Table], now: datetime
    ) -> tuple[Snapshot, list[CellChange]]:
        cleaning = clean_inscriptions(
            tables[schema.INSCRIPTIONS], tables[schema.DESINSCRIPTIONS], phone=self.phone
        )
        members = members_after_cleaning(tables[schema.INSCRIPTIONS], cleaning)
        officers = active_officers(r.values for r in tables[schema.HABILITATIONS].rows)
        composer = Composer(r.values for r in tables[schema.MODELES].rows)
        alert_rows = tables[schema.ALERTES].rows
        ids, id_changes = _alert_ids(alert_rows)
        seen: set[str] = set()
        plans = []
        for row in alert_rows:
            alert_id = ids[row.key]
            duplicate = alert_id in seen
            seen.add(alert_id)
            plans.append(self._plan(row, alert_id, duplicate, officers, composer, members, now))
        changes = list(cleaning.changes) + id_changes
        return Snapshot(tables, cleaning, members, plans), changes

    def _plan(
        self,
        row: Row,
        alert_id: str,
        duplicate: bool,
        officers: Mapping[str, object],
        composer: Composer,
        members: list[Member],
        now: datetime,
    ) -> AlertPlan:
        values = dict(row.values)
        status = values.get("statut", "").strip().lower()
        resuming = status in RESUMING_STATUSES
        if resuming:
            if self.has_started(alert_id):
                values["statut"] = schema.A_DIFFUSER
            else:
                # « en cours » typed by hand, or a crash before the first send: check afresh.
                values["statut"] = schema.A_DIFFUSER
                resuming = False
        if duplicate and status in (schema.A_DIFFUSER, "a diffuser"):
            return AlertPlan(
                row, alert_id, schema.REFUSEE,
                f"Identifiant « {alert_id} » déjà utilisé par une autre ligne : donner un "
                "identifiant unique à cette alerte.",
            )
        verdict: Verdict = check_alert(
            values, officers=officers, now=now, stale_hours=1e9 if resuming else self.stale_hours
        )
        if not verdict.accepted or verdict.alert is None:
            return AlertPlan(row, alert_id, verdict.verdict, verdict.motif)
        alert = verdict.alert
        alert.id = alert_id
        plan = AlertPlan(row, alert_id, schema.A_DIFFUSER, alert=alert, resuming=resuming)
        try:
            for channel in self.channels:
                plan.messages[channel] = composer.compose(alert, channel)
        except TemplateProblem as problem:
            plan.verdict, plan.motif, plan.error = schema.REFUSEE, problem.message, True
            return plan
        plan.recipients = select_recipients(alert, members)
        if not plan.recipients:
            plan.verdict = schema.REFUSEE
            plan.motif = (
                "Aucun adhérent actif ne correspond au ciblage (zone, communes, activités) : "
                "élargir la cible."
            )
        return plan


def alert_cells(row: Row, **values: object) -> list[CellChange]:
    """Cell changes for an alert row, only where the value differs."""
    return [
        CellChange(schema.ALERTES, row.key, column, str(value))
        for column, value in values.items()
        if row.get(column) != str(value)
    ]


def refusal_cells(plan: AlertPlan, now: datetime) -> list[CellChange]:
    status = schema.ERREUR if plan.error else schema.REFUSEE
    return alert_cells(plan.row, statut=status, motif=plan.motif, destinataires=0)


def heartbeat_cells(
    etat: Table, summary: str, now: datetime
) -> tuple[list[CellChange], list[dict[str, str]]]:
    """Etat rows `dernier_passage`, `dernier_bilan`, `hote`: updates, or rows to append."""
    wanted = {
        "dernier_passage": format_french(now),
        "dernier_bilan": summary,
        "hote": socket.gethostname(),
    }
    stamp = format_french(now)
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


def default_state_rows(now: datetime | None = None) -> list[dict[str, str]]:
    stamp = format_french(now or paris_now())
    return [
        {"cle": "dernier_passage", "valeur": "jamais", "mis_a_jour": stamp},
        {"cle": "dernier_bilan", "valeur": "", "mis_a_jour": stamp},
        {"cle": "hote", "valeur": "", "mis_a_jour": stamp},
    ]


def register_tables(register: Register) -> dict[str, Table]:
    return register.read(ALL_TABS)
