"""What the journal file holds about one number, and its erasure.

- `suppressions`: keyed digests (`consent.tokens.number_digest`) of the numbers erased after an
  unsubscription, with the time of the erasure: an old list imported again cannot make them
  members again without a new confirmed sign-up. A digest reveals nothing without the secret.
- `desinscrits_vus`: when the purge first saw a number unsubscribed (for rows that carry no
  date of unsubscription), so its retention period runs from then.
- per-recipient rows of `envois` lose their number (and the WhatsApp ids that contain it) after
  the retention period or on request: the rows stay, so each alert's counts and send times
  (the report to the préfecture) are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sender.journal.file import JournalFile

ERASED_PREFIX = "efface:"  # an anonymised `envois.numero`: unique per row, says nothing
_ANONYMISE = (
    f"numero = '{ERASED_PREFIX}' || lower(hex(randomblob(8))), message_id = NULL, "
    "wa_id = NULL, ref = NULL, error_text = NULL"
)


@dataclass(frozen=True, slots=True)
class Trace:
    """One alert (or confirmation message) sent to a number, as the journal recorded it."""

    alert_id: str
    channel: str
    state: str
    created_at: float
    sent_at: float | None
    delivery: str
    delivery_at: float | None


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message received from a number (« STOP », a confirmation tap…)."""

    kind: str
    received_at: float
    body: str


def _whatsapp_id(numero: str) -> str:
    return numero.lstrip("+")


def suppressions(file: JournalFile) -> dict[str, float]:
    """Digest → time of the erasure, for every number erased after an unsubscription."""
    with file.read() as conn:
        rows = conn.execute("SELECT empreinte, efface_le FROM suppressions").fetchall()
    return {digest: float(when) for digest, when in rows}


def add_suppressions(file: JournalFile, digests: Iterable[str], when: float) -> None:
    rows = [(digest, when) for digest in dict.fromkeys(digests)]
    if not rows:
        return
    with file.write() as conn:
        conn.executemany(
            "INSERT INTO suppressions (empreinte, efface_le) VALUES (?, ?) "
            "ON CONFLICT (empreinte) DO UPDATE SET efface_le = excluded.efface_le",
            rows,
        )
        conn.executemany("DELETE FROM desinscrits_vus WHERE empreinte = ?",
                         [(d,) for d, _ in rows])


def first_seen(file: JournalFile, digests: Iterable[str], now: float) -> dict[str, float]:
    """When each digest was first seen unsubscribed (now for new ones); digests no longer
    unsubscribed are forgotten."""
    wanted = list(dict.fromkeys(digests))
    with file.write() as conn:
        rows = conn.execute("SELECT empreinte, vu_le FROM desinscrits_vus").fetchall()
        known = {digest: float(when) for digest, when in rows}
        gone = [(d,) for d in known if d not in set(wanted)]
        conn.executemany("DELETE FROM desinscrits_vus WHERE empreinte = ?", gone)
        new = [(d, now) for d in wanted if d not in known]
        conn.executemany("INSERT INTO desinscrits_vus (empreinte, vu_le) VALUES (?, ?)", new)
    return {d: known.get(d, now) for d in wanted}


def traces(file: JournalFile, numero: str) -> list[Trace]:
    with file.read() as conn:
        return [
            Trace(a, c or "", s, float(cr), st, d or "", da)
            for a, c, s, cr, st, d, da in conn.execute(
                "SELECT alert_id, channel, state, created_at, sent_at, delivery, delivery_at "
                "FROM envois WHERE numero = ? ORDER BY created_at", (numero,),
            )
        ]


def incoming(file: JournalFile, numero: str) -> list[Incoming]:
    with file.read() as conn:
        return [
            Incoming(kind, float(received), body or "")
            for kind, received, body in conn.execute(
                "SELECT kind, received_at, body FROM entrants WHERE sender IN (?, ?) "
                "ORDER BY received_at", (numero, _whatsapp_id(numero)),
            )
        ]


def erase_number(file: JournalFile, numero: str) -> tuple[int, int]:
    """Anonymise the number's send rows and delete its statuses and incoming messages; the
    numbers of rows changed: (send traces, incoming messages)."""
    with file.write() as conn:
        refs = [r for (r,) in conn.execute(
            "SELECT DISTINCT ref FROM envois WHERE numero = ? AND ref IS NOT NULL", (numero,)
        )]
        conn.executemany("DELETE FROM statuts WHERE ref = ?", [(r,) for r in refs])
        sent = conn.execute(
            f"UPDATE envois SET {_ANONYMISE} WHERE numero = ?", (numero,)  # noqa: S608  # nosec B608 - the SET clause is a module constant
        ).rowcount
        received = conn.execute(
            "DELETE FROM entrants WHERE sender IN (?, ?)", (numero, _whatsapp_id(numero))
        ).rowcount
    file.checkpoint()
    return sent, received


def erase_before(file: JournalFile, cutoff: float) -> tuple[int, int]:
    """The retention of traces: send rows last written before `cutoff` lose their number,
    statuses and incoming messages received before it are deleted; (rows, messages)."""
    with file.write() as conn:
        conn.execute("DELETE FROM statuts WHERE received_at < ?", (cutoff,))
        sent = conn.execute(
            f"UPDATE envois SET {_ANONYMISE} WHERE updated_at < ? "  # noqa: S608  # nosec B608 - the SET clause is a module constant
            "AND numero NOT LIKE ?", (cutoff, ERASED_PREFIX + "%"),
        ).rowcount
        received = conn.execute(
            "DELETE FROM entrants WHERE received_at < ?", (cutoff,)
        ).rowcount
    if sent or received:
        file.checkpoint()
    return sent, received


def count_before(file: JournalFile, cutoff: float) -> tuple[int, int]:
    """What `erase_before` would change (for `purger --simulation`)."""
    with file.read() as conn:
        (sent,) = conn.execute(
            "SELECT COUNT(*) FROM envois WHERE updated_at < ? AND numero NOT LIKE ?",
            (cutoff, ERASED_PREFIX + "%"),
        ).fetchone()
        (received,) = conn.execute(
            "SELECT COUNT(*) FROM entrants WHERE received_at < ?", (cutoff,)
        ).fetchone()
    return int(sent), int(received)


def seen_times(file: JournalFile) -> dict[str, float]:
    """`first_seen` without writing anything (for `purger --simulation`)."""
    with file.read() as conn:
        rows = conn.execute("SELECT empreinte, vu_le FROM desinscrits_vus").fetchall()
    return {digest: float(when) for digest, when in rows}
