"""Backup and restore of a sender's data in one archive (`sauvegarder`, `restaurer`).

The archive is one private (0600) `tar.gz`: a consistent copy of each SQLite file (register,
journal, phone memo) made with SQLite's online backup API, safe while `surveiller` writes (a
plain copy of a file in WAL mode can tear), the link-signing secret, the public figures, and on
Google Sheets every tab of the register exported as CSV (the sheet is the register). A
`manifeste.json` lists what it holds. A restore writes into an empty data folder only.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sender import schema
from sender.dates import format_iso
from sender.dates import now as paris_now
from sender.errors import InputError
from sender.register.base import Register
from sender.storage import PRIVATE_FILE, private_dir

FORMAT = "alerte-message-sauvegarde/1"
MANIFEST = "manifeste.json"
REGISTER = "registre.sqlite"
JOURNAL = "journal.sqlite"
PHONES = "numeros.sqlite"
SECRET_FILE = "secret.key"  # noqa: S105 - a file name, not a secret
FIGURES = "statistiques.json"
TABS_FOLDER = "onglets"


@dataclass(frozen=True)
class Sources:
    """Where the files of one installation are (`sender.config.Settings` tells)."""

    data_dir: Path
    journal: Path
    phones: Path
    secret: Path
    figures: Path
    register_file: Path | None  # the SQLite register; None when it is a Google sheet


@dataclass
class BackupReport:
    archive: Path
    members: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # tab → rows (Google Sheets export)


def archive_name(moment: datetime) -> str:
    return f"alerte-message-{moment.strftime('%Y%m%d-%H%M%S')}.tar.gz"


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of `source` through SQLite's online backup API (readers and writers
    of `source` go on meanwhile). Raises sqlite3.Error, OSError."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        finally:
            dst.close()
    finally:
        src.close()


def _tab_csv(register: Register, tab: str) -> tuple[bytes, int]:
    table = register.read([tab])[tab]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([row.values.get(h, "") for h in table.headers])
    return buffer.getvalue().encode("utf-8"), len(table.rows)


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), PRIVATE_FILE, int(mtime)
    archive.addfile(info, io.BytesIO(data))


def backup(
    sources: Sources,
    register: Register | None,
    folder: Path,
    *,
    clock: Callable[[], datetime] = paris_now,
) -> BackupReport:
    """Write the archive into `folder` (created private if missing); `register` is read only for
    a Google sheet (its tabs as CSV). Raises OSError, sqlite3.Error, AlerteError."""
    moment = clock()
    private_dir(folder)
    path = folder / archive_name(moment)
    report = BackupReport(path)
    files = [(REGISTER, sources.register_file), (JOURNAL, sources.journal),
             (PHONES, sources.phones)]
    with tempfile.TemporaryDirectory(dir=folder, prefix=".sauvegarde-") as scratch:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
        with os.fdopen(descriptor, "wb") as handle, tarfile.open(
            fileobj=handle, mode="w:gz", compresslevel=6
        ) as archive:
            for name, source in files:
                if source is None or not source.exists():
                    continue
                copy = Path(scratch) / name
                copy_sqlite(source, copy)
                archive.add(copy, arcname=name, filter=_private)
                report.members.append(name)
            for name, source in ((SECRET_FILE, sources.secret), (FIGURES, sources.figures)):
                if source.is_file():
                    archive.add(source, arcname=name, filter=_private)
                    report.members.append(name)
            if sources.register_file is None and register is not None:
                for tab in schema.TABS:
                    data, count = _tab_csv(register, tab)
                    _add_bytes(archive, f"{TABS_FOLDER}/{tab}.csv", data, moment.timestamp())
                    report.members.append(f"{TABS_FOLDER}/{tab}.csv")
                    report.rows[tab] = count
            manifest = {
                "format": FORMAT, "cree_le": format_iso(moment),
                "registre": "feuille Google" if sources.register_file is None else "SQLite",
                "fichiers": report.members, "lignes_par_onglet": report.rows,
            }
            _add_bytes(archive, MANIFEST, json.dumps(manifest, ensure_ascii=False,
                                                     indent=2).encode("utf-8"),
                       moment.timestamp())
    return report


def _private(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode, info.uid, info.gid, info.uname, info.gname = PRIVATE_FILE, 0, 0, "", ""
    return info


@dataclass
class RestoreReport:
    restored: list[Path] = field(default_factory=list)
    tabs: list[Path] = field(default_factory=list)  # Google Sheets exports, for reference
    created: str = ""
    register: str = ""


def _targets(sources: Sources) -> dict[str, Path | None]:
    return {REGISTER: sources.register_file, JOURNAL: sources.journal, PHONES: sources.phones,
            SECRET_FILE: sources.secret, FIGURES: sources.figures}


def _manifest(archive: tarfile.TarFile) -> dict[str, object]:
    try:
        member = archive.getmember(MANIFEST)
        handle = archive.extractfile(member)
        data = json.loads(handle.read().decode("utf-8")) if handle else None
    except (KeyError, ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError("Ce fichier n'est pas une sauvegarde d'Alerte Message (manifeste "
                         "absent ou illisible).")
    return data


def _refuse_overwrite(sources: Sources, targets: dict[str, Path | None]) -> None:
    present = [str(p) for p in targets.values() if p is not None and p.exists()]
    folder = sources.data_dir
    if folder.is_dir() and any(folder.iterdir()):
        present.insert(0, f"{folder} (dossier non vide)")
    if present:
        raise InputError(
            "Restauration refusée : elle n'écrase jamais des données existantes. Déjà présent : "
            + " ; ".join(present) + ". Restaurez dans un dossier vide (ALERTE_DOSSIER)."
        )


def restore(archive_path: Path, sources: Sources) -> RestoreReport:
    """Write the files of the archive where `sources` says, into an empty data folder; never
    overwrite. Raises InputError (not an archive, data present), OSError."""
    try:
        archive = tarfile.open(archive_path, mode="r:gz")  # noqa: SIM115 - closed below
    except (OSError, tarfile.TarError) as exc:
        raise InputError(f"Archive illisible : {archive_path} ({type(exc).__name__}).") from exc
    report = RestoreReport()
    with archive:
        manifest = _manifest(archive)
        report.created, report.register = str(manifest.get("cree_le", "")), str(
            manifest.get("registre", ""))
        targets = _targets(sources)
        _refuse_overwrite(sources, targets)
        for member in archive.getmembers():
            if not member.isfile() or member.name == MANIFEST:
                continue
            if member.name.startswith(f"{TABS_FOLDER}/"):
                name = Path(member.name).name
                if "/" in member.name[len(TABS_FOLDER) + 1:] or not name.endswith(".csv"):
                    continue
                target = sources.data_dir / "onglets-sauvegardes" / name
                report.tabs.append(target)
            else:
                found = targets.get(member.name)
                if found is None:
                    continue
                target = found
                report.restored.append(target)
            _extract(archive, member, target)
    return report


def _extract(archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    handle = archive.extractfile(member)
    if handle is None:
        return
    private_dir(target.parent)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as out:
        while chunk := handle.read(1 << 20):
            out.write(chunk)
