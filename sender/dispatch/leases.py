"""The lease per alert in the journal: it keeps two dispatchers off the same alert.

`acquire`/`renew`/`release`/`holder` work on the `verrous` table; `claim` and `defer` check the
lease in their own transaction (`_assert_lease`).
"""

from __future__ import annotations

import sqlite3

from sender.dispatch.journal_file import JournalFile
from sender.dispatch.states import LeaseLost


class JournalLeases(JournalFile):
    """Lease methods of `Journal`, on the journal's own connection and clock."""

    def acquire(
        self, alert_id: str, owner: str, ttl_seconds: float, *, replace: str | None = None
    ) -> bool:
        """Take or renew the alert's lease for `ttl_seconds`; False if another owner holds it.

        Atomic across threads and processes. An expired lease (crashed owner) is taken over;
        `replace` also takes over a live lease if (and only if) `replace` still holds it — for
        an owner known to be dead (same host, process gone).
        """
        now = self._clock()
        with self._write() as conn:
            row = conn.execute(
                "SELECT owner, expires_at FROM verrous WHERE alert_id = ?", (alert_id,)
            ).fetchone()
            if row is not None and row[0] not in (owner, replace) and row[1] > now:
                return False
            conn.execute(
                "INSERT INTO verrous (alert_id, owner, acquired_at, expires_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (alert_id) DO UPDATE SET "
                "owner = excluded.owner, expires_at = excluded.expires_at, "
                "acquired_at = CASE WHEN verrous.owner = excluded.owner "
                "THEN verrous.acquired_at ELSE excluded.acquired_at END",
                (alert_id, owner, now, now + ttl_seconds),
            )
            return True

    def renew(self, alert_id: str, owner: str, ttl_seconds: float) -> bool:
        """Extend a lease this owner still holds (even just expired, if nobody took it)."""
        now = self._clock()
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE verrous SET expires_at = ? WHERE alert_id = ? AND owner = ?",
                (now + ttl_seconds, alert_id, owner),
            )
            return cursor.rowcount == 1

    def release(self, alert_id: str, owner: str) -> bool:
        """Give the lease back; False if this owner did not hold it (any more)."""
        with self._write() as conn:
            cursor = conn.execute(
                "DELETE FROM verrous WHERE alert_id = ? AND owner = ?", (alert_id, owner)
            )
            return cursor.rowcount == 1

    def holder(self, alert_id: str) -> str | None:
        """The owner of a live lease on the alert, or None."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT owner FROM verrous WHERE alert_id = ? AND expires_at > ?",
                (alert_id, self._clock()),
            ).fetchone()
        return row[0] if row else None

    def _assert_lease(self, conn: sqlite3.Connection, alert_id: str, owner: str) -> None:
        row = conn.execute(
            "SELECT owner, expires_at FROM verrous WHERE alert_id = ?", (alert_id,)
        ).fetchone()
        if row is None or row[0] != owner or row[1] <= self._clock():
            raise LeaseLost(
                f"Le verrou d'envoi de l'alerte {alert_id} a expiré ou a été repris par un "
                "autre processus : envoi arrêté pour ne pas doubler les messages."
            )
