"""Backup in the middle of a dispatch, restore elsewhere, resume: `backup_seconds_100k`.

A real `alerte-message envoyer --une-fois` sends a prevention alert to `members` members of a
SQLite register through the WhatsApp emulator (in this process). Once a third of them are
reached, the emulator stalls (every further request hangs, then loses its connection unread),
and, while the sender still runs and holds its lease, a real `alerte-message sauvegarder` writes
the archive: `backup_seconds` is its wall time (process start included). The server is then
lost (`kill -9`); `alerte-message restaurer` puts the archive into an empty home folder and
`envoyer --une-fois` runs there until the alert reads « diffusée ».

- `missed`: members the emulator never accepted a message for (must be 0);
- `duplicates`: messages accepted beyond the first for a number (must be 0: every message
  accepted before the backup is `sent` in the archived journal, and the stalled ones were never
  accepted);
- `archive_mb`: the archive's size.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from sender import schema
from support.scenario import (
    TimedWhatsAppEmulator,
    alert_row,
    alerte_message_bin,
    mobiles,
    prevention_alert,
    sqlite_register,
    subprocess_env,
)

RATE = 2000
STALL_SECONDS = 30.0


def _sent(journal: Path) -> int:
    conn = sqlite3.connect(f"file:{journal}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("SELECT COUNT(*) FROM envois WHERE state = 'sent'").fetchone()[0]
    finally:
        conn.close()


def _wait(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _env(home: Path, wa: TimedWhatsAppEmulator) -> dict[str, str]:
    env = subprocess_env(home / "data", str(home / "data" / "registre.sqlite"), wa=wa,
                         ALERTE_DEBIT=str(RATE), ALERTE_CONCURRENCE="64",
                         ALERTE_DELAI_HTTP="2", ALERTE_DOSSIER=str(home))
    return env


def run(members: int = 100_000, *, log_dir: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-backup-") as directory, \
            TimedWhatsAppEmulator(rate_limit=RATE * 2, latency=0.01) as wa:
        tmp = Path(directory)
        first, second = tmp / "serveur", tmp / "secours"
        sqlite_register(first / "data" / "registre.sqlite", members,
                        alert=prevention_alert()).close()
        env = _env(first, wa)
        logs = open(log_dir / "backup.log", "ab") if log_dir else subprocess.DEVNULL  # noqa: SIM115
        try:
            sender = subprocess.Popen([alerte_message_bin(), "envoyer", "--une-fois"], env=env,
                                      stdout=logs, stderr=logs)
            _wait(lambda: len(wa.accepted) >= members // 3 or sender.poll() is not None,
                  600, "a third of the members reached")
            if sender.poll() is not None:
                raise RuntimeError("the dispatch ended before the backup")
            wa.hang_next(10 * members, STALL_SECONDS)  # the emulator stalls: nothing more
            journal = first / "data" / "journal.sqlite"
            _wait(lambda: _sent(journal) >= len(wa.accepted), 60, "the journal to catch up")
            started = time.monotonic()
            subprocess.run([alerte_message_bin(), "sauvegarder", str(tmp / "archives")],
                           env=env, check=True, stdout=logs, stderr=logs, timeout=600)
            seconds = time.monotonic() - started
            at_backup = len(wa.accepted)
            os.kill(sender.pid, signal.SIGKILL)  # the server is lost
            sender.wait(timeout=30)
            wa.clear_script()
            archive = next((tmp / "archives").glob("alerte-message-*.tar.gz"))
            env2 = _env(second, wa)
            subprocess.run([alerte_message_bin(), "restaurer", str(archive)], env=env2,
                           check=True, stdout=logs, stderr=logs, timeout=600)
            for _ in range(5):
                subprocess.run([alerte_message_bin(), "envoyer", "--une-fois"], env=env2,
                               check=True, stdout=logs, stderr=logs, timeout=1200)
                from sender.register.sqlite import SQLiteRegister

                with SQLiteRegister(second / "data" / "registre.sqlite") as register:
                    if alert_row(register)["statut"] == schema.DIFFUSEE:
                        break
        finally:
            if logs is not subprocess.DEVNULL:
                logs.close()
        numbers = mobiles(members)
        return {
            "members": members,
            "backup_seconds": round(seconds, 2),
            "archive_mb": round(archive.stat().st_size / 1e6, 1),
            "archive_mode": oct(archive.stat().st_mode & 0o777),
            "reached_at_backup": at_backup,
            "missed": wa.missed(numbers),
            "duplicates": wa.duplicates(),
        }
