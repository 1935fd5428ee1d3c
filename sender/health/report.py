"""The health report `/sante` answers: is the polling loop alive (its heartbeat file), can the
journal be written, when did the last webhook arrive, and the WhatsApp templates' statuses
when the journal holds them. Healthy: the last successful cycle is at most 3 polls old (or the
cycle in progress advanced that recently) and the journal can be written."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sender.config import Settings
from sender.dates import format_iso, parse_datetime
from sender.health.state import heartbeat_path, read_heartbeat
from sender.storage import Trouble, classify, table_names
from sender.tables import Table

POLLS = 3  # the loop is late after this many polls without a successful cycle
_TROUBLES = {
    Trouble.BUSY: "occupé", Trouble.DAMAGED: "endommagé", Trouble.FULL: "disque plein",
    Trouble.ACCESS: "droits insuffisants ou lecture seule", Trouble.IO: "erreur du disque",
    Trouble.OTHER: "erreur SQLite",
}


@dataclass(frozen=True)
class Health:
    healthy: bool
    body: dict[str, Any]

    @property
    def status(self) -> int:
        return 200 if self.healthy else 503


def _iso(moment: float | None) -> str | None:
    return None if moment is None else format_iso(datetime.fromtimestamp(moment, UTC))


def journal_state(path: Path) -> tuple[bool, str]:
    """(writable, French state) of the journal: a real write transaction is begun and rolled
    back (a journal busy with another writer is writable)."""
    if not path.exists():
        return False, f"absent ({path})"
    try:
        conn = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=1.0,
                               isolation_level=None)
    except sqlite3.Error as error:
        return False, f"inaccessible ({_TROUBLES[classify(error)]})"
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    except sqlite3.Error as error:
        trouble = classify(error)
        if trouble is Trouble.BUSY:
            return True, "en écriture par un autre processus"
        return False, f"impossible à écrire ({_TROUBLES[trouble]})"
    finally:
        conn.close()
    return True, "ok"


def _read_only(path: Path) -> sqlite3.Connection | None:
    try:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1.0)
    except sqlite3.Error:
        return None


def journal_facts(path: Path) -> dict[str, Any]:
    """The last webhook received, and the templates' statuses when the journal keeps them."""
    facts: dict[str, Any] = {"dernier_webhook": None}
    if not path.exists():
        return facts
    conn = _read_only(path)
    if conn is None:
        return facts
    try:
        tables = table_names(conn)
        moments = [
            conn.execute(f"SELECT MAX(received_at) FROM {table}").fetchone()[0]  # noqa: S608  # nosec B608 - fixed table names
            for table in ("statuts", "entrants") if table in tables
        ]
        known = [m for m in moments if m is not None]
        facts["dernier_webhook"] = _iso(max(known)) if known else None
        if "modeles_meta" in tables:  # Meta's template-status webhooks (delivery/account.py)
            facts["modeles"] = {
                f"{name} ({language})": str(event)
                for name, language, event in conn.execute(
                    "SELECT name, language, event FROM modeles_meta ORDER BY name, language"
                )
            }
    except sqlite3.Error:
        pass
    finally:
        conn.close()
    return facts


def health(settings: Settings, now: float | None = None) -> Health:
    now = time.time() if now is None else now
    beat = read_heartbeat(heartbeat_path(settings.journal.parent))
    problems: list[str] = []
    body: dict[str, Any] = {"etat": "ok"}
    if beat is None:
        problems.append("aucun passage de « surveiller » enregistré")
        limit = POLLS * settings.poll_seconds
    else:
        limit = POLLS * beat.poll_seconds
        body["dernier_passage_reussi"] = _iso(beat.last_success)
        body["age_dernier_passage_secondes"] = (
            None if beat.last_success is None else round(now - beat.last_success, 1)
        )
        body["passage_en_cours_depuis"] = _iso(beat.started)
        body["dernier_bilan"] = beat.last_summary
        if beat.last_error:
            body["derniere_erreur"] = {
                "moment": _iso(beat.last_error.get("at")),
                "message": str(beat.last_error.get("message", "")),
            }
        fresh = beat.last_success is not None and now - beat.last_success <= limit
        advancing = beat.started is not None and beat.progress is not None and (
            now - beat.progress <= limit
        )
        if not (fresh or advancing):
            problems.append(f"aucun passage réussi depuis plus de {limit:g} s")
    body["limite_secondes"] = limit
    writable, state = journal_state(settings.journal)
    body["journal"] = {"etat": state, "ecriture": writable}
    if not writable:
        problems.append(f"journal {state}")
    body.update(journal_facts(settings.journal))
    if problems:
        body["etat"] = "en panne"
        body["problemes"] = problems
    return Health(not problems, body)


STOPPED_MINUTES = 3  # as the `Alertes` banner of a Google sheet (register.sheets.banner)


def stopped_warning(etat: Table, now: datetime) -> str | None:
    """« Envoi arrêté depuis … : prévenir la CMA » when the heartbeat `surveiller` writes in
    `Etat` (`dernier_passage`) is missing or older than `STOPPED_MINUTES`, else None."""
    stamp = next((r.get("valeur") for r in etat.rows if r.get("cle") == "dernier_passage"), "")
    moment = parse_datetime(stamp) if stamp else None
    if moment is None:
        return "Envoi arrêté\u00a0: aucun passage enregistré\u00a0: prévenir la CMA"
    if now - moment > timedelta(minutes=STOPPED_MINUTES):
        return f"Envoi arrêté depuis {stamp}\u00a0: prévenir la CMA"
    return None
