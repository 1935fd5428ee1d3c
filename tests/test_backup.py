"""Backup and restore: one private archive, a consistent copy of the SQLite files while they
are written, Google Sheets tabs exported, a restore that never overwrites, and a dispatch
backed up in its middle, restored elsewhere and resumed with nobody missed and nobody twice."""

from __future__ import annotations

import csv
import io
import sqlite3
import stat
import tarfile
import threading
from pathlib import Path

import pytest

from bench import bench_backup
from sender import schema
from sender.backup import Sources, backup, restore
from sender.cli import main
from sender.errors import InputError
from support.emulators.sheets import SheetsEmulator
from support.scenario import fill, sheets_register


def _sources(home: Path, register_file: bool = True) -> Sources:
    data = home / "data"
    return Sources(data_dir=data, journal=data / "journal.sqlite", phones=data / "numeros.sqlite",
                   secret=data / "secret.key", figures=data / "statistiques.json",
                   register_file=data / "registre.sqlite" if register_file else None)


def test_sauvegarder_then_restaurer_elsewhere_gives_the_same_data(tmp_path: Path, monkeypatch,
                                                                  capsys):
    monkeypatch.setenv("ALERTE_DOSSIER", str(tmp_path / "a"))
    for name in ("ALERTE_REGISTRE", "ALERTE_JOURNAL", "ALERTE_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert main(["initialiser"]) == 0
    assert main(["envoyer"]) == 0  # the journal, the phone memo and the secret exist
    (tmp_path / "a" / "data" / "statistiques.json").write_text("{}", encoding="utf-8")
    assert main(["sauvegarder", str(tmp_path / "archives")]) == 0
    archive = next((tmp_path / "archives").glob("alerte-message-*.tar.gz"))
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    with tarfile.open(archive) as opened:
        names = set(opened.getnames())
    assert {"registre.sqlite", "journal.sqlite", "manifeste.json", "statistiques.json"} <= names

    monkeypatch.setenv("ALERTE_DOSSIER", str(tmp_path / "b"))
    capsys.readouterr()
    assert main(["restaurer", str(archive)]) == 0
    restored = tmp_path / "b" / "data"
    for name in ("registre.sqlite", "journal.sqlite", "statistiques.json"):
        assert (restored / name).exists()
        assert stat.S_IMODE((restored / name).stat().st_mode) == 0o600
    assert main(["exporter", "--onglet", "Modeles", "--json"]) == 0

    assert main(["restaurer", str(archive)]) == 1  # never over existing data
    assert "Restauration refusée" in capsys.readouterr().err


def test_restaurer_refuses_what_is_not_an_archive(tmp_path: Path):
    bogus = tmp_path / "x.tar.gz"
    bogus.write_bytes(b"pas une archive")
    with pytest.raises(InputError, match="Archive illisible"):
        restore(bogus, _sources(tmp_path / "b"))


def test_the_copy_is_consistent_while_another_process_writes(tmp_path: Path):
    """A writer commits pairs of rows (WAL); every copy holds whole pairs only."""
    sources = _sources(tmp_path / "a")
    sources.data_dir.mkdir(parents=True)
    conn = sqlite3.connect(sources.journal, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE t (n INTEGER)")
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            conn.execute("BEGIN")
            conn.execute("INSERT INTO t VALUES (?)", (n,))
            conn.execute("INSERT INTO t VALUES (?)", (n,))
            conn.execute("COMMIT")
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        reports = [backup(sources, None, tmp_path / f"archives{i}") for i in range(3)]
    finally:
        stop.set()
        writer.join()
        conn.close()
    for index, report in enumerate(reports):
        target = _sources(tmp_path / f"restore{index}")
        restore(report.archive, target)
        copy = sqlite3.connect(target.journal)
        counts = copy.execute("SELECT COUNT(*), COUNT(DISTINCT n) FROM t").fetchone()
        copy.close()
        assert counts[0] == 2 * counts[1]


def test_on_google_sheets_every_tab_is_exported(sheets: SheetsEmulator, tmp_path: Path):
    register, _ = sheets_register(sheets)
    fill(register, 3)
    report = backup(_sources(tmp_path / "a", register_file=False), register, tmp_path / "out")
    assert report.rows[schema.INSCRIPTIONS] == 3
    with tarfile.open(report.archive) as archive:
        member = archive.extractfile(f"onglets/{schema.INSCRIPTIONS}.csv")
        assert member is not None
        rows = list(csv.reader(io.TextIOWrapper(member, "utf-8"), delimiter=";"))
        assert set(f"onglets/{tab}.csv" for tab in schema.TABS) <= set(archive.getnames())
    assert rows[0] == list(schema.COLUMNS[schema.INSCRIPTIONS]) and len(rows) == 4
    restored = restore(report.archive, _sources(tmp_path / "b", register_file=False))
    assert len(restored.tabs) == len(schema.TABS)


@pytest.mark.slow
def test_a_dispatch_backed_up_midway_restored_elsewhere_and_resumed_reaches_everyone_once():
    result = bench_backup.run(members=600)
    assert 0 < result["reached_at_backup"] < 600
    assert result["missed"] == 0
    assert result["duplicates"] == 0
    assert result["archive_mode"] == "0o600"
