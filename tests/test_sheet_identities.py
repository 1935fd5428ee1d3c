"""Rows are written by identity, not by the row number seen at read time.

A clerk sorts `Alertes` or `Inscriptions`, inserts or deletes rows, inserts or moves a column
between the sender's read and its write — before the « en cours » write, or while a dispatch
runs. Every value still lands on its own row and column: a « diffusée » never lands on another
alert (which would then never be sent), a cleaned number never on another member. The Sheets
emulator makes the edit between two requests (`between`) or from inside the dispatch; on the
SQLite register, another program rewrites the table.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from sender import schema
from sender.register.sheets.client import GoogleSheetsRegister
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from sender.tables import CellChange
from support.emulators.sheets import SheetsEmulator
from support.scenario import (
    SHEETS_DISPATCH_BUDGET,
    TimedWhatsAppEmulator,
    member_rows,
    mobile,
    officer_rows,
    prevention_alert,
    quiet_console,
    sheets_register,
    whatsapp_settings,
)

MEMBERS = 6
ALERTS = [
    prevention_alert("1", statut=schema.BROUILLON, description="Alpha, brouillon"),
    prevention_alert("2", description="Bravo, à diffuser"),
    prevention_alert("3", statut=schema.BROUILLON, description="Charlie, brouillon"),
    prevention_alert("4", statut=schema.DIFFUSEE, description="Delta, déjà diffusée"),
    prevention_alert("5", description="Echo, à diffuser"),
]
STAFF_ALERT = {"id": "9", "statut": schema.BROUILLON, "description": "Saisie en cours"}


def _line(tab: str, values: dict[str, str]) -> list[str]:
    return [values.get(column, "") for column in schema.COLUMNS[tab]]


# Each edit as staff make it: (name, function(emulator, key, tab)).
EDITS: dict[str, Callable[[SheetsEmulator, str, str], None]] = {
    "tri": lambda e, k, t: e.sort_rows(k, t, "description" if t == schema.ALERTES else "nom",
                                       reverse=True),
    "insertion": lambda e, k, t: e.insert_rows(
        k, t, 2, 2, [_line(t, STAFF_ALERT if t == schema.ALERTES else STAFF_MEMBER)]),
    "suppression": lambda e, k, t: e.delete_rows(k, t, 2),
    "colonne": lambda e, k, t: e.insert_columns(k, t, 1, headers=["note_cma"]),
    "deplacement": lambda e, k, t: e.move_column(k, t, "statut", 1),
}
STAFF_MEMBER = {"nom": "Zoé Saisie", "telephone": "06 99 99 99 99", "commune": "Mende"}
# `between(…, kinds=AFTER_THE_READ, skip=1)`: the edit comes just after the cycle's read of the
# register, before whatever request follows it.
AFTER_THE_READ = {"values_batch_get", "values_batch_update"}


def _register(sheets: SheetsEmulator, *, clean: bool) -> tuple[GoogleSheetsRegister, str]:
    register, key = sheets_register(sheets)
    register.initialise()
    register.append(schema.HABILITATIONS, officer_rows())
    register.initialise()  # the officer's account becomes the editor of `Alertes` (issue 10)
    register.append(schema.INSCRIPTIONS, member_rows(MEMBERS, clean=clean))
    return register, key


def _by_id(register, tab: str) -> dict[str, dict[str, str]]:
    rows = register.read([tab])[tab].rows
    return {row.get("id"): dict(row.values) for row in rows}


def _check_alerts(register, edit: str, members: int) -> None:
    alerts = _by_id(register, schema.ALERTES)
    for sent in ("2", "5"):
        assert alerts[sent]["statut"] == schema.DIFFUSEE, (edit, alerts)
        assert alerts[sent]["envoyes"] == str(members), (edit, alerts[sent])
        assert alerts[sent]["description"] == ALERTS[int(sent) - 1]["description"]
    for draft in ("1", "3"):
        if draft in alerts:  # « suppression » deletes alert 1
            assert alerts[draft]["statut"] == schema.BROUILLON, (edit, alerts[draft])
            assert alerts[draft]["destinataires"] == alerts[draft]["motif"] == ""
    assert "1" in alerts or edit == "suppression"
    assert alerts["4"]["statut"] == schema.DIFFUSEE and alerts["4"]["envoyes"] == ""
    if edit == "insertion":
        assert alerts["9"]["statut"] == schema.BROUILLON and alerts["9"]["motif"] == ""


class EditingWhatsApp(TimedWhatsAppEmulator):
    """Runs an edit of the sheet once, when the dispatch has sent its third message."""

    def __init__(self, edit: Callable[[], None], **kwargs) -> None:
        super().__init__(**kwargs)
        self._edit = edit
        self._count = 0
        self._edit_lock = threading.Lock()
        self.edited = False

    def handle(self, request):  # type: ignore[override]
        reply = super().handle(request)
        with self._edit_lock:
            self._count += 1
            if self._count == 3 and not self.edited:
                self._edit()
                self.edited = True
        return reply


@pytest.mark.parametrize("edit", sorted(EDITS))
@pytest.mark.parametrize("moment", ["avant l'écriture « en cours »", "pendant la diffusion"])
def test_alert_results_land_on_their_own_row(
    sheets: SheetsEmulator, tmp_path: Path, edit: str, moment: str
) -> None:
    register, key = _register(sheets, clean=True)
    register.append(schema.ALERTES, ALERTS)

    def change() -> None:
        EDITS[edit](sheets, key, schema.ALERTES)

    during = moment == "pendant la diffusion"
    if not during:  # after the cycle's read, before its first write
        sheets.between(change, kinds=AFTER_THE_READ, skip=1)
    with EditingWhatsApp(change if during else (lambda: None)) as wa:
        sender = Sender(register, whatsapp_settings(tmp_path, key, wa, concurrency=1),
                        console=quiet_console(), progress=False)
        try:
            report = sender.run_once()
        finally:
            sender.close()
    assert report.write_error is None
    assert wa.edited or not during
    _check_alerts(register, edit, MEMBERS)


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_cleaning_results_land_on_their_own_member(
    sheets: SheetsEmulator, tmp_path: Path, edit: str
) -> None:
    register, key = _register(sheets, clean=False)
    # a member typed by hand, without id, in the middle of the tab
    sheets.insert_rows(key, schema.INSCRIPTIONS, 4, 1, [_line(schema.INSCRIPTIONS, {
        "nom": "Yves Main", "telephone": "06 11 22 33 44", "commune": "Florac"})])
    sheets.between(lambda: EDITS[edit](sheets, key, schema.INSCRIPTIONS),
                   kinds=AFTER_THE_READ, skip=1)
    with TimedWhatsAppEmulator() as wa:
        sender = Sender(register, whatsapp_settings(tmp_path, key, wa), console=quiet_console(),
                        progress=False)
        try:
            sender.run_once()
        finally:
            sender.close()
    rows = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].rows
    by_name = {row.get("nom"): row for row in rows}
    for index in range(MEMBERS):
        row = by_name.get(f"Adhérent {index}")
        if row is None:
            assert edit == "suppression" and index == 0
            continue
        assert row.get("numero") == mobile(index), (edit, dict(row.values))
        assert row.get("statut") == schema.ACTIF and row.get("id") == str(index + 1)
    yves = by_name["Yves Main"]
    assert (yves.get("numero"), yves.get("statut")) == ("+33611223344", schema.ACTIF), edit
    assert yves.get("id") == str(MEMBERS + 1)
    if edit == "insertion":
        staff = by_name["Zoé Saisie"]
        assert staff.get("statut") == staff.get("numero") == "", "not read, not written"
    if edit == "colonne":
        assert all(row.get("note_cma") == "" for row in rows)


def test_a_write_costs_one_look_and_one_update(sheets: SheetsEmulator, tmp_path: Path) -> None:
    register, key = _register(sheets, clean=True)
    with TimedWhatsAppEmulator() as wa:
        sender = Sender(register, whatsapp_settings(tmp_path, key, wa), console=quiet_console(),
                        progress=False)
        try:
            sender.run_once()
            register.append(schema.ALERTES, [prevention_alert("7")])
            sheets.between(lambda: sheets.sort_rows(key, schema.ALERTES, "id", reverse=True),
                           kinds=AFTER_THE_READ, skip=1)
            sheets.reset_counts()
            sender.run_once()
            assert sheets.total_requests <= SHEETS_DISPATCH_BUDGET
            sheets.reset_counts()
            sender.run_once()
            assert sheets.total_requests == 1
        finally:
            sender.close()


# -- SQLite: another program rewrites the table between the read and the write ---------------


def _rewrite_sorted(path: Path, tab: str, column: str) -> None:
    """What a table editor's « sort and save » does: the rows get new row ids in a new order."""
    conn = sqlite3.connect(path)
    try:
        columns = [r[1] for r in conn.execute(f'PRAGMA table_info("{tab}")') if r[1] != "_row"]
        quoted = ", ".join(f'"{c}"' for c in columns)
        rows = conn.execute(f'SELECT {quoted} FROM "{tab}" ORDER BY "{column}" DESC').fetchall()
        conn.execute(f'DELETE FROM "{tab}"')
        conn.executemany(f'INSERT INTO "{tab}" ({quoted}) VALUES ({", ".join("?" * len(columns))})',
                         rows)
        conn.commit()
    finally:
        conn.close()


def test_sqlite_writes_find_rows_by_id_after_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "registre.sqlite"
    register = SQLiteRegister(path)
    register.initialise()
    register.append(schema.ALERTES, ALERTS)
    table = register.read([schema.ALERTES])[schema.ALERTES]
    target = next(r for r in table.rows if r.get("id") == "2")
    _rewrite_sorted(path, schema.ALERTES, "description")
    register.write([CellChange(schema.ALERTES, target.key, "statut", schema.EN_COURS)])
    alerts = _by_id(register, schema.ALERTES)
    assert alerts["2"]["statut"] == schema.EN_COURS
    assert [alerts[i]["statut"] for i in ("1", "3", "4", "5")] == [
        schema.BROUILLON, schema.BROUILLON, schema.DIFFUSEE, schema.A_DIFFUSER]


def test_sqlite_dispatch_outlives_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "registre.sqlite"
    register = SQLiteRegister(path)
    register.initialise()
    register.append(schema.HABILITATIONS, officer_rows())
    register.append(schema.INSCRIPTIONS, member_rows(MEMBERS))
    register.append(schema.ALERTES, ALERTS)
    with EditingWhatsApp(lambda: _rewrite_sorted(path, schema.ALERTES, "description")) as wa:
        sender = Sender(register, whatsapp_settings(tmp_path, str(path), wa, concurrency=1),
                        console=quiet_console(), progress=False)
        try:
            sender.run_once()
        finally:
            sender.close()
    assert wa.edited
    _check_alerts(register, "tri", MEMBERS)
