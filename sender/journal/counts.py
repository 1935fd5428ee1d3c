"""What was sent, per Europe/Paris day, by kind and channel, with the billed SMS parts
(`compteurs` table of the journal file), and the journal's small settings (`_journal`).

A `sent` outcome recorded by `Journal.record` adds one message to its day, its kind (`alerte`,
or `confirmation` for the ids starting with `confirmation-`) and its channel, in the same
transaction; messages sent outside the dispatcher (the acknowledgement of a « STOP ») are added
with `add`. The figures feed `Etat` (today, this month, estimated cost) and the monthly SMS
ceiling; they are kept 400 days.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sender.dates import PARIS

ALERTE = "alerte"
CONFIRMATION = "confirmation"
ACCUSE = "accuse"  # acknowledgement of a « STOP » (free-form WhatsApp text)

SCHEMA = """CREATE TABLE IF NOT EXISTS compteurs (
        jour TEXT NOT NULL,
        kind TEXT NOT NULL,
        channel TEXT NOT NULL,
        messages INTEGER NOT NULL DEFAULT 0,
        parts INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (jour, kind, channel)
    ) WITHOUT ROWID"""


def day_of(timestamp: float) -> str:
    """The Europe/Paris day of a Unix time, `2026-12-04`."""
    return datetime.fromtimestamp(timestamp, PARIS).date().isoformat()


def kind_of(alert_id: str) -> str:
    return CONFIRMATION if alert_id.startswith("confirmation-") else ALERTE


def add(
    conn: sqlite3.Connection, timestamp: float, rows: Iterable[tuple[str, str, int, int]]
) -> None:
    """Add (kind, channel, messages, parts) to the day of `timestamp`."""
    day = day_of(timestamp)
    conn.executemany(
        "INSERT INTO compteurs (jour, kind, channel, messages, parts) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (jour, kind, channel) DO UPDATE SET "
        "messages = messages + excluded.messages, parts = parts + excluded.parts",
        [(day, kind, channel, messages, parts) for kind, channel, messages, parts in rows],
    )


@dataclass(frozen=True, slots=True)
class Count:
    kind: str
    channel: str
    messages: int
    parts: int  # billed SMS parts (0 for WhatsApp)


def since(conn: sqlite3.Connection, first_day: str) -> list[Count]:
    """Totals per kind and channel from `first_day` (included) on."""
    return [
        Count(kind, channel, int(messages), int(parts))
        for kind, channel, messages, parts in conn.execute(
            "SELECT kind, channel, SUM(messages), SUM(parts) FROM compteurs WHERE jour >= ? "
            "GROUP BY kind, channel ORDER BY kind, channel",
            (first_day,),
        )
    ]


def get_value(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT valeur FROM _journal WHERE cle = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_value(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute(
        "INSERT INTO _journal (cle, valeur) VALUES (?, ?) "
        "ON CONFLICT (cle) DO UPDATE SET valeur = excluded.valeur",
        (key, value),
    )
