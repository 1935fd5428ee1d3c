"""Privacy-safe counts from the register: members by zone and trade, alerts by type and month.

Pure functions over the rows of `Inscriptions` and `Alertes`. No group of fewer than `THRESHOLD`
people is ever shown: small groups are merged into « Autres » and, when that merged group would
itself stay under the threshold, the next smallest groups join it until it reaches it (so no
small count can be recovered by subtracting from the total). Alerts are events, not people:
they are counted exactly.

`statistics()` returns the JSON document that `alerte-message statistiques` writes and the site
build turns into the page « Le réseau en chiffres ».
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sender.alerts.model import normalise_type
from sender.dates import PARIS, DateError, format_french, parse_datetime
from sender.schema import ACTIF, ACTIVITES, ALERT_TYPES, DIFFUSEE
from sender.text import cell_text, day, fold, month, plural

FORMAT = "alerte-message-statistiques/1"
THRESHOLD = 5
OTHERS = "Autres"
MONTHS_SHOWN = 12

ZONE_LABELS: Mapping[str, str] = {
    "police": "Zone police (Mende)",
    "gendarmerie": "Zone gendarmerie (autres communes)",
}
UNKNOWN_ZONE = "Zone non reconnue"
_OTHER_TRADE = "Autre"
_TRADES = {fold(name): name for name in ACTIVITES}


@dataclass(frozen=True, slots=True)
class Group:
    label: str
    count: int
    key: str = ""  # a stable key when the label is not enough (month « 2026-11 »)


@dataclass(frozen=True, slots=True)
class Breakdown:
    """Counts to show, largest first (or in their natural order), and what was merged."""

    groups: list[Group] = field(default_factory=list)
    merged: int = 0  # how many original groups went into « Autres »
    hidden: bool = False  # True when the whole breakdown is under the threshold

    @property
    def total(self) -> int:
        return sum(group.count for group in self.groups)

    def as_json(self) -> dict[str, object]:
        return {
            "groupes": [
                {"libelle": g.label, "nombre": g.count, **({"cle": g.key} if g.key else {})}
                for g in self.groups
            ],
            "regroupes": self.merged,
            "masque": self.hidden,
        }


def protect(
    counts: Mapping[str, int], threshold: int = THRESHOLD, others: str = OTHERS
) -> Breakdown:
    """People counts safe to publish: every shown group counts at least `threshold` people.

    Groups under the threshold, and a group already called `others`, are merged into `others`;
    while that merged group is non-empty but under the threshold, the smallest remaining group
    joins it. When the total itself is under the threshold, nothing is shown (`hidden`).
    """
    positive = {label: n for label, n in counts.items() if n > 0}
    total = sum(positive.values())
    if total == 0:
        return Breakdown()
    if total < threshold:
        return Breakdown([], merged=len(positive), hidden=True)
    ordered = sorted(positive.items(), key=lambda item: (-item[1], fold(item[0])))
    kept = [(label, n) for label, n in ordered if n >= threshold and fold(label) != fold(others)]
    small = [(label, n) for label, n in ordered if (label, n) not in kept]
    merged_count = sum(n for _, n in small)
    while 0 < merged_count < threshold and kept:
        label, n = kept.pop()  # the smallest kept group
        small.append((label, n))
        merged_count += n
    groups = [Group(label, n) for label, n in kept]
    if merged_count:
        groups.append(Group(others, merged_count))
    merged = sum(1 for label, _ in small if fold(label) != fold(others))
    return Breakdown(groups, merged=merged)


# -- members --------------------------------------------------------------------------------


def trade_label(value: str) -> str:
    """The trade of the signup form for what a row holds; « Autre » when it is not one of them."""
    return _TRADES.get(fold(value), _OTHER_TRADE)


def active_members(rows: Iterable[Mapping[str, str]]) -> list[Mapping[str, str]]:
    return [row for row in rows if fold(cell_text(row.get("statut"))) == ACTIF]


def members_by_zone(members: Sequence[Mapping[str, str]], threshold: int = THRESHOLD) -> Breakdown:
    counts = Counter(
        ZONE_LABELS.get(fold(cell_text(row.get("zone"))), UNKNOWN_ZONE) for row in members
    )
    return protect(counts, threshold, "Autres zones")


def members_by_trade(members: Sequence[Mapping[str, str]], threshold: int = THRESHOLD) -> Breakdown:
    counts = Counter(trade_label(cell_text(row.get("activite"))) for row in members)
    # The form's own « Autre » and the merged small trades read as one group.
    if _OTHER_TRADE in counts:
        counts[OTHERS] = counts.pop(_OTHER_TRADE)
    return protect(counts, threshold)


# -- alerts ---------------------------------------------------------------------------------


def cell_moment(value: object) -> datetime | None:
    text = cell_text(value)
    if not text:
        return None
    try:
        return parse_datetime(text)
    except (DateError, ValueError, OverflowError):
        return None


def alert_moment(row: Mapping[str, str]) -> datetime | None:
    """When an alert happened for reporting: the report to the forces, else its entry, else its
    broadcast, else the facts."""
    for column in ("signale_le", "saisie_le", "diffusee_le", "faits_le"):
        moment = cell_moment(row.get(column))
        if moment is not None:
            return moment
    return None


def alert_type(row: Mapping[str, str]) -> str | None:
    return normalise_type(cell_text(row.get("type")))


def broadcast_alerts(rows: Iterable[Mapping[str, str]]) -> list[Mapping[str, str]]:
    """Alerts whose status is « diffusée »."""
    return [row for row in rows if cell_text(row.get("statut")) == DIFFUSEE]


def month_keys(first: date, last: date) -> list[tuple[int, int]]:
    """Every (year, month) from `first`'s month to `last`'s month, in order."""
    keys = []
    year, number = first.year, first.month
    while (year, number) <= (last.year, last.month):
        keys.append((year, number))
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
    return keys


def alerts_by_type(alerts: Sequence[Mapping[str, str]]) -> Breakdown:
    counts = Counter(alert_type(row) for row in alerts)
    groups = [Group(name.capitalize(), counts.get(name, 0), name) for name in ALERT_TYPES]
    if counts.get(None):
        groups.append(Group("Type non reconnu", counts[None], "inconnu"))
    return Breakdown(groups)


def alerts_by_month(alerts: Sequence[Mapping[str, str]], first: date, last: date) -> Breakdown:
    counts: Counter[tuple[int, int]] = Counter()
    for row in alerts:
        moment = alert_moment(row)
        if moment is not None:
            local = moment.astimezone(PARIS)
            counts[(local.year, local.month)] += 1
    return Breakdown(
        [
            Group(month(year, number), counts.get((year, number), 0), f"{year}-{number:02d}")
            for year, number in month_keys(first, last)
        ]
    )


def in_period(row: Mapping[str, str], first: date, last: date) -> bool:
    moment = alert_moment(row)
    return moment is not None and first <= moment.astimezone(PARIS).date() <= last


def last_months(today: date, count: int = MONTHS_SHOWN) -> tuple[date, date]:
    """The first day of the month `count - 1` months before `today`'s, and `today`."""
    year, number = today.year, today.month - (count - 1)
    while number < 1:
        year, number = year - 1, number + 12
    return date(year, number, 1), today


# -- the document -----------------------------------------------------------------------------


def statistics(
    inscriptions: Iterable[Mapping[str, str]],
    alertes: Iterable[Mapping[str, str]],
    now: datetime,
    *,
    period: tuple[date, date] | None = None,
    threshold: int = THRESHOLD,
) -> dict[str, object]:
    """The JSON document of the figures: members now, broadcast alerts over `period` (by
    default the last 12 months, this one included)."""
    first, last = period or last_months(now.astimezone(PARIS).date())
    members = active_members(inscriptions)
    alerts = [row for row in broadcast_alerts(alertes) if in_period(row, first, last)]
    by_zone = members_by_zone(members, threshold)
    by_trade = members_by_trade(members, threshold)
    return {
        "format": FORMAT,
        "produit_le": format_french(now),
        "seuil": threshold,
        "adherents": {
            "total": len(members) if len(members) >= threshold else None,
            "par_zone": by_zone.as_json(),
            "par_activite": by_trade.as_json(),
        },
        "alertes": {
            "du": first.isoformat(),
            "au": last.isoformat(),
            "total": len(alerts),
            "par_type": alerts_by_type(alerts).as_json(),
            "par_mois": alerts_by_month(alerts, first, last).as_json(),
        },
    }


def _french_day(value: object) -> str:
    """`2025-12-01` as `01/12/2025`; anything else as it is."""
    try:
        return day(date.fromisoformat(str(value)))
    except ValueError:
        return str(value)


def summary(document: Mapping[str, object]) -> list[str]:
    """What a figures document says, in a few French lines (for the command line)."""
    members = document.get("adherents")
    alerts = document.get("alertes")
    members = members if isinstance(members, dict) else {}
    alerts = alerts if isinstance(alerts, dict) else {}
    total = members.get("total")
    lines = [
        plural(total, "adhérent actif", "adhérents actifs")
        if isinstance(total, int)
        else f"moins de {document.get('seuil', THRESHOLD)} adhérents actifs (non montré)",
        f"{plural(int(alerts.get('total') or 0), 'alerte diffusée', 'alertes diffusées')} "
        f"du {_french_day(alerts.get('du'))} au {_french_day(alerts.get('au'))}",
    ]
    merged = sum(
        int(part.get("regroupes") or 0)
        for part in (members.get("par_zone"), members.get("par_activite"))
        if isinstance(part, dict)
    )
    if merged:
        lines.append(
            f"{plural(merged, 'groupe', 'groupes')} de moins de "
            f"{document.get('seuil', THRESHOLD)} personnes réunis dans « Autres » "
            "(aucun petit groupe n'est publié)"
        )
    return lines
