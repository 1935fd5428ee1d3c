"""The content of the report to the préfecture for a period: pure functions, no I/O.

Per alert: type, commune, delay from the facts to the report, from the report to the first and
the last message (from the dispatch journal's send times when there are any, else « non
mesuré »), recipients, sent, failures, delivered and read (from the `remis` and `lus` columns
when the register has them, else « non disponible »; each from 1 to 4 reads « moins de 5 »), and
refusals with their motif. Follow-ups (« suite », « fin d'alerte ») name their original; alerts
called off (« annulée ») are listed with what went before. What is « envoyé » is what a channel
accepted, not what reached a phone.
"""

from __future__ import annotations

import statistics as stats
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sender.alerts.model import PRECISION_LABELS, normalise_precision, normalise_sequel
from sender.dates import PARIS, elapsed
from sender.reporting.aggregate import (
    THRESHOLD,
    alert_moment,
    alert_type,
    cell_moment,
    in_period,
    statistics,
)
from sender.schema import ANNULEE, DIFFUSEE, EN_COURS, ERREUR, FIN_ALERTE, REFUSEE
from sender.text import cell_text, duration, written_day_and_hour

NOT_MEASURED = "non mesuré"
NOT_AVAILABLE = "non disponible"
NOT_APPLICABLE = "sans objet"
MEDIAN_FIRST = "Délai médian entre le signalement et le premier message"
MEDIAN_LAST = "Délai médian entre le signalement et le dernier message"
NOT_FILLED = "non renseigné"
BROADCAST_STATUSES = (DIFFUSEE, EN_COURS, ERREUR)

# (first sent_at, last sent_at, number of sent rows) per alert id, from the dispatch journal.
SendTimes = Mapping[str, tuple[float, float, int]]


@dataclass(frozen=True, slots=True)
class AlertLine:
    alert_id: str
    moment: str  # « 12/03/2026 à 10h55 » or « date inconnue »
    type_label: str
    commune: str
    status: str
    facts_to_report: str
    report_to_first: str
    report_to_last: str
    recipients: str
    sent: str
    failed: str
    delivered: str
    read: str
    motif: str


@dataclass(frozen=True, slots=True)
class Report:
    first: date
    last: date
    made_at: datetime
    figures: dict[str, object]
    broadcast: list[AlertLine] = field(default_factory=list)
    refused: list[AlertLine] = field(default_factory=list)
    cancelled: list[AlertLine] = field(default_factory=list)
    medians: list[tuple[str, str]] = field(default_factory=list)
    journal_used: bool = False
    delivery_columns: bool = False


def type_label(row: Mapping[str, str]) -> str:
    sequel = normalise_sequel(cell_text(row.get("type")))
    if sequel is not None:
        original = cell_text(row.get("suite_de"))[:20] or "?"
        what = "Fin de l’alerte" if sequel == FIN_ALERTE else "Suite de l’alerte"
        return f"{what} n° {original}"
    kind = alert_type(row)
    if kind is None:
        return cell_text(row.get("type"))[:40] or "type inconnu"
    label = kind.capitalize()
    if kind == "escroquerie":
        precision = PRECISION_LABELS.get(normalise_precision(cell_text(row.get("precision"))) or "")
        if precision:
            label = f"{label} ({precision})"
    return label



def small_group(text: str, threshold: int = THRESHOLD) -> str:
    """A per-alert count of people: from 1 to `threshold` - 1 it reads « moins de 5 », so that
    an alert aimed at a small commune does not tell how many people (or who) got it."""
    try:
        value = int(text)
    except ValueError:
        return text
    return f"moins de {threshold}" if 0 < value < threshold else text


def _count(row: Mapping[str, str], column: str, columns: Sequence[str], missing: str) -> str:
    if column not in columns:
        return missing
    return small_group(cell_text(row.get(column)) or missing)


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def _line(
    row: Mapping[str, str], columns: Sequence[str], send_times: SendTimes
) -> tuple[AlertLine, dict[str, float]]:
    """The report line of one alert and its measured delays in minutes (for the medians)."""
    alert_id = cell_text(row.get("id"))
    kind = alert_type(row)
    facts, reported = cell_moment(row.get("faits_le")), cell_moment(row.get("signale_le"))
    start = reported or cell_moment(row.get("saisie_le"))
    measured: dict[str, float] = {}
    if kind == "prévention":
        facts_to_report = NOT_APPLICABLE
    elif facts is None or reported is None:
        facts_to_report = NOT_FILLED
    else:
        delta = elapsed(facts, reported)
        facts_to_report = duration(delta)
        measured["facts"] = _minutes(delta)
    first_text = last_text = NOT_MEASURED
    times = send_times.get(alert_id)
    if times is not None and start is not None:
        first = datetime.fromtimestamp(times[0], PARIS)
        last = datetime.fromtimestamp(times[1], PARIS)
        first_text, last_text = duration(elapsed(start, first)), duration(elapsed(start, last))
        if kind != "prévention":  # no report to measure from: kept out of the medians
            measured["first"] = _minutes(elapsed(start, first))
            measured["last"] = _minutes(elapsed(start, last))
    moment = alert_moment(row)
    line = AlertLine(
        alert_id=alert_id or "?",
        moment=written_day_and_hour(moment) if moment else "date inconnue",
        type_label=type_label(row),
        commune=cell_text(row.get("commune"))[:80] or "—",
        status=cell_text(row.get("statut")),
        facts_to_report=facts_to_report,
        report_to_first=first_text,
        report_to_last=last_text,
        recipients=small_group(cell_text(row.get("destinataires")) or "0"),
        sent=small_group(cell_text(row.get("envoyes")) or "0"),
        failed=small_group(cell_text(row.get("echecs")) or "0"),
        delivered=_count(row, "remis", columns, NOT_AVAILABLE),
        read=_count(row, "lus", columns, NOT_AVAILABLE),
        motif=cell_text(row.get("motif"))[:500],
    )
    return line, measured


def _median(values: list[float]) -> str:
    if not values:
        return NOT_MEASURED
    return duration(timedelta(minutes=stats.median(values)))


def build_report(
    inscriptions: Iterable[Mapping[str, str]],
    alertes: Iterable[Mapping[str, str]],
    alert_columns: Sequence[str],
    send_times: SendTimes,
    first: date,
    last: date,
    now: datetime,
    *,
    journal_used: bool = True,
    threshold: int = THRESHOLD,
) -> Report:
    """The report for alerts reported between `first` and `last` (both included)."""
    rows = [row for row in alertes if in_period(row, first, last)]
    rows.sort(key=lambda row: (alert_moment(row) or now, cell_text(row.get("id"))))
    broadcast, refused, cancelled = [], [], []
    delays: dict[str, list[float]] = {"facts": [], "first": [], "last": []}
    for row in rows:
        status = cell_text(row.get("statut"))
        if status in BROADCAST_STATUSES:
            line, measured = _line(row, alert_columns, send_times)
            broadcast.append(line)
            for key, value in measured.items():
                delays[key].append(value)
        elif status == REFUSEE:
            refused.append(_line(row, alert_columns, send_times)[0])
        elif status == ANNULEE:
            cancelled.append(_line(row, alert_columns, send_times)[0])
    medians = [
        ("Délai médian entre les faits et le signalement", _median(delays["facts"])),
        (f"{MEDIAN_FIRST} (hors prévention)", _median(delays["first"])),
        (f"{MEDIAN_LAST} (hors prévention)", _median(delays["last"])),
    ]
    return Report(
        first=first,
        last=last,
        made_at=now,
        figures=statistics(inscriptions, rows, now, period=(first, last), threshold=threshold),
        broadcast=broadcast,
        refused=refused,
        cancelled=cancelled,
        medians=medians,
        journal_used=journal_used,
        delivery_columns="remis" in alert_columns or "lus" in alert_columns,
    )
