"""Dates as they arrive from a French sheet, a form or a file, as aware Europe/Paris datetimes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
_SHEETS_EPOCH = datetime(1899, 12, 30)
_FRENCH = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})(?:[ T,à]+(\d{1,2})\s*[:hH]\s*(\d{2})?(?::(\d{2}))?)?$"
)
_SERIAL = re.compile(r"^\d{1,6}(?:[.,]\d+)?$")


class DateError(ValueError):
    """Raised with a French message when a value is not a date we understand."""


def _localise(naive: datetime) -> datetime:
    """Attach Europe/Paris to a wall-clock time; in the autumn repeated hour take the first."""
    return naive.replace(tzinfo=PARIS, fold=0)


def parse_datetime(value: str | float | int | None) -> datetime | None:
    """Parse a sheet serial number, `29/11/2026 14:05`, `29/11/2026 14h05` or ISO 8601.

    Returns None for an empty value; raises DateError for anything else it cannot read.
    """
    if value is None:
        return None
    text = repr(value) if isinstance(value, int | float) else " ".join(str(value).split())
    if not text:
        return None
    if _SERIAL.match(text):
        serial = float(text.replace(",", "."))
        if not 1 <= serial < 200_000:
            raise DateError(f"date illisible : « {text} »")
        naive = _SHEETS_EPOCH + timedelta(days=serial)
        return _localise(naive.replace(microsecond=0) + _round_seconds(naive))
    match = _FRENCH.match(text)
    if match:
        day, month, year, hour, minute, second = match.groups()
        year_n = int(year) + (2000 if len(year) == 2 else 0)
        try:
            naive = datetime(
                year_n, int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
            )
        except ValueError as exc:
            raise DateError(f"date impossible : « {text} »") from exc
        return _localise(naive)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise DateError(
            f"date illisible : « {text} » (attendu par exemple 29/11/2026 14:05)"
        ) from exc
    if parsed.tzinfo is None:
        return _localise(parsed)
    return parsed.astimezone(PARIS)


def _round_seconds(naive: datetime) -> timedelta:
    """Serial numbers carry float noise (14:04:59.9999): round to the nearest second."""
    return timedelta(seconds=round(naive.microsecond / 1_000_000))


def format_french(moment: datetime) -> str:
    """`29/11/2026 14:05`, in Europe/Paris, as staff type it."""
    return moment.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")


def format_iso(moment: datetime) -> str:
    return moment.astimezone(PARIS).isoformat(timespec="seconds")


def now() -> datetime:
    return datetime.now(UTC).astimezone(PARIS)


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Real elapsed time between two aware datetimes.

    Python ignores the UTC offset when both operands share a tzinfo object, so a subtraction across
    a daylight-saving change would be off by an hour; going through UTC avoids that.
    """
    return end.astimezone(UTC) - start.astimezone(UTC)
