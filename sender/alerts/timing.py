"""Date checks of an `Alertes` row: reading the dates, the one-hour rule, staleness.

Each check returns the French motifs it found (with the date when it reads one); `rules.py` runs
them in the order an officer reads the row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from sender.dates import PARIS, DateError, elapsed, parse_datetime
from sender.text import cell_text, day, day_and_hour, duration, hour, quote

MAX_DELAY = timedelta(minutes=60)  # signalement − faits must be strictly under this
CLOCK_SKEW = timedelta(minutes=5)  # tolerated « future » for dates typed from another clock

_EXPLICIT_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}:?\d{2})$")
_HAS_TIME = re.compile(r"\d\s*[:hH]|T\d")
_SERIAL_WITH_TIME = re.compile(r"^\d+[.,]\d*[1-9]")


def aware(moment: datetime) -> datetime:
    """`moment` with a time zone; a naive value is read as Europe/Paris."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=PARIS)


def check_date(
    value: object, column: str, *, now: datetime, need_time: bool
) -> tuple[datetime | None, list[str]]:
    """Read the `column` cell `value`: a plausible, not future date (with a time if needed)."""
    serial = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    text = cell_text(value)
    if not text:
        return None, []
    if len(text) > 60:
        return None, [
            f"Colonne « {column} » : date illisible {quote(text, 30)} "
            "(attendu par exemple 29/11/2026 14:05)."
        ]
    try:
        moment = parse_datetime(serial if serial is not None else text)
    except (DateError, ValueError, OverflowError) as exc:
        return None, [f"Colonne « {column} » : {str(exc)[:200]}."]
    if moment is None:
        return None, []
    if not 2000 <= moment.year <= 2099:
        return None, [
            f"Colonne « {column} » : date invraisemblable {quote(text, 30)} "
            "(attendu par exemple 29/11/2026 14:05)."
        ]
    if need_time and not (_HAS_TIME.search(text) or _SERIAL_WITH_TIME.match(text)):
        return None, [
            f"Colonne « {column} » : heure manquante dans {quote(text, 30)} ; la règle du "
            "délai d'une heure exige l'heure (ex. 29/11/2026 14:05)."
        ]
    if elapsed(now, moment) > CLOCK_SKEW:
        return None, [
            f"Date dans le futur : « {column} » vaut le {day_and_hour(moment)} alors qu'il "
            f"est {hour(now)} le {day(now)} ; corriger la date ou l'heure."
        ]
    return moment, []


def check_delay(faits: datetime, signale: datetime, typed: Mapping[str, str]) -> list[str]:
    """The one-hour rule between the facts and their report; `typed` holds the cells as typed."""
    delay = elapsed(faits, signale)
    if timedelta(0) <= delay < MAX_DELAY:
        return []
    if delay < timedelta(0):
        motif = (
            f"Dates incohérentes : le signalement ({day_and_hour(signale)}) est antérieur aux "
            f"faits ({day_and_hour(faits)}) ; vérifier « faits_le » et « signale_le »."
        )
    else:
        when = hour(signale) if day(signale) == day(faits) else day_and_hour(signale)
        article = "à" if day(signale) == day(faits) else "le"
        motif = (
            f"Délai dépassé : les faits du {day_and_hour(faits)} ont été signalés {article} "
            f"{when}, soit {duration(delay)} après (la règle impose moins d'une heure)."
        )
    return [motif + _fold_hint(faits, signale, typed)]


def _fold_hint(faits: datetime, signale: datetime, typed: Mapping[str, str]) -> str:
    """When an autumn repeated hour could make the delay valid, say how to remove the doubt."""
    hints = []
    for column, moment in (("faits_le", faits), ("signale_le", signale)):
        if not _ambiguous(moment, typed.get(column, "")):
            continue
        other = _other_fold(moment)
        pair = (other, signale) if column == "faits_le" else (faits, other)
        if timedelta(0) <= elapsed(*pair) < MAX_DELAY:
            wall = moment.astimezone(PARIS).replace(tzinfo=None)
            hints.append(
                f" Attention : le {day(moment)}, l'heure {hour(moment)} existe deux fois "
                "(retour à l'heure d'hiver) et a été lue comme la première ; si « "
                f"{column} » désigne la seconde, l'écrire avec son décalage : "
                f"{wall:%Y-%m-%dT%H:%M}+01:00."
            )
    return "".join(hints)


def check_staleness(
    reference: datetime | None, *, now: datetime, stale_hours: float, from_saisie: bool
) -> list[str]:
    """An alert entered or reported more than `stale_hours` ago is no longer broadcast."""
    if reference is None:
        return []
    age = elapsed(reference, now)
    if age <= timedelta(hours=stale_hours):
        return []
    what = "saisie" if from_saisie else "signalée"
    return [
        f"Alerte trop ancienne : {what} le {day_and_hour(reference)}, il y a "
        f"{duration(age)} (au-delà de {stale_hours:g} h, elle n'est plus diffusée). "
        "Si elle est toujours d'actualité, créer une nouvelle ligne avec des informations "
        "à jour."
    ]


def _ambiguous(moment: datetime, raw: str) -> bool:
    """True when the typed wall-clock time falls in the autumn repeated hour, with no offset."""
    if _EXPLICIT_OFFSET.search(raw):
        return False
    wall = moment.astimezone(PARIS).replace(tzinfo=None)
    return PARIS.utcoffset(wall.replace(fold=0)) != PARIS.utcoffset(wall.replace(fold=1))


def _other_fold(moment: datetime) -> datetime:
    wall = moment.astimezone(PARIS)
    return wall.replace(fold=1 - wall.fold)
