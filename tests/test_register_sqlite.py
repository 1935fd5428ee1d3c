"""SQLite register: concurrent writers lose nothing; broken files give a French error."""

import multiprocessing
import sqlite3
import threading

import pytest

from sender.errors import RegisterCorrupt
from sender.register.sqlite import SQLiteRegister
from sender.schema import ALERTES, COLUMNS, INSCRIPTIONS
from sender.tables import CellChange

ALERTES_COLUMNS = COLUMNS[ALERTES]


def _append_many(path, worker, count):
    register = SQLiteRegister(path)
    for i in range(count):
        register.append(INSCRIPTIONS, [{"nom": f"w{worker}-{i}", "telephone": "0612345678"}])
    register.close()


@pytest.mark.slow
def test_concurrent_processes_and_threads_lose_no_row(tmp_path):
    path = tmp_path / "r.sqlite"
    SQLiteRegister(path).initialise()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(path, w, 40)) for w in range(3)]
    threads = [threading.Thread(target=_append_many, args=(path, 10 + w, 40)) for w in range(3)]
    for worker in procs + threads:
        worker.start()
    register = SQLiteRegister(path)
    for _ in range(20):  # the sender writing statuses at the same time
        rows = register.read([INSCRIPTIONS])[INSCRIPTIONS].rows
        register.write([CellChange(INSCRIPTIONS, r.key, "statut", "actif") for r in rows])
    for worker in procs + threads:
        worker.join()
    rows = register.read([INSCRIPTIONS])[INSCRIPTIONS].rows
    assert len(rows) == 240
    assert len({r.get("nom") for r in rows}) == 240
    assert len({r.get("id") for r in rows}) == 240  # ids unique under contention


def test_corrupt_file_gives_french_error_and_is_not_touched(tmp_path):
    path = tmp_path / "r.sqlite"
    path.write_bytes(b"ceci n'est pas une base" * 200)
    before = path.read_bytes()
    with pytest.raises(RegisterCorrupt) as info:
        SQLiteRegister(path).initialise()
    assert "Rien n'a été modifié" in info.value.message
    assert path.read_bytes() == before


def test_foreign_sqlite_database_is_refused(tmp_path):
    path = tmp_path / "autre.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE clients (nom TEXT)")
    with pytest.raises(RegisterCorrupt):
        SQLiteRegister(path).initialise()
    with sqlite3.connect(path) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert names == {"clients"}


def test_initialise_twice_changes_nothing(tmp_path):
    register = SQLiteRegister(tmp_path / "r.sqlite")
    assert register.initialise().changed
    assert not register.initialise().changed


def test_a_register_made_before_remis_and_lus_gets_them_without_losing_data(tmp_path):
    path = tmp_path / "ancien.sqlite"
    old = [c for c in ALERTES_COLUMNS if c not in ("remis", "lus")]
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE _registre (cle TEXT PRIMARY KEY, valeur TEXT)")
    conn.execute("INSERT INTO _registre VALUES ('format', 'alerte-message/1')")
    columns = ", ".join(f'"{c}" TEXT NOT NULL DEFAULT \'\'' for c in old)
    conn.execute(f'CREATE TABLE "Alertes" (_row INTEGER PRIMARY KEY AUTOINCREMENT, {columns})')
    conn.execute('INSERT INTO "Alertes" (id, statut, envoyes) VALUES (\'7\', \'diffusée\', \'40\')')
    conn.commit()
    conn.close()
    register = SQLiteRegister(path)
    table = register.read([ALERTES])[ALERTES]
    assert {"remis", "lus"} <= set(table.headers)
    (row,) = table.rows
    assert (row.get("id"), row.get("statut"), row.get("envoyes"), row.get("remis")) == (
        "7", "diffusée", "40", "")
    register.write([CellChange(ALERTES, row.key, "remis", "38")])
    assert register.read([ALERTES])[ALERTES].rows[0].get("remis") == "38"
    register.close()
