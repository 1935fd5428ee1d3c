"""`alerte-message personne`: everything held about one number, shown, exported, erased or
suspended (GDPR articles 15, 17, 18, 20), on SQLite and on the Sheets emulator; and the raw
bytes of every data file after an erasure."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from sender import operations, schema
from sender.channels.outbox import OutboxChannel, outbox_lines
from sender.cleaning.phonecache import PhoneCache
from sender.cleaning.suppressions import SuppressionList
from sender.cli import main
from sender.config import Settings
from sender.dates import PARIS
from sender.journal.file import JournalFile
from sender.privacy import person as persons
from sender.register.base import Register
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from support.scenario import fill, prevention_alert, quiet_console, sheets_register

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
NUMERO = "+33612345678"
OTHER = "+33698765432"
SPELLINGS = ("+33612345678", "33612345678", "0612345678", "06 12 34 56 78", "06.12.34.56.78",
             "612345678", "+33 6 12 34 56 78")


def _member(numero: str, row_id: str, **extra: str) -> dict[str, str]:
    row = {"id": row_id, "horodatage": "01/02/2026 09:00", "source": "formulaire",
           "nom": f"Membre {row_id}", "entreprise": "Boulangerie", "activite": "Services",
           "commune": "Mende", "telephone": numero, "consentement": "oui",
           "confirme_le": "01/02/2026 09:03"}
    row.update(extra)
    return row


def _settings(data: Path, register: str) -> Settings:
    return Settings(register=register, journal=data / "journal.sqlite",
                    outbox=data / "outbox.jsonl", secret="s" * 40)


@pytest.fixture(params=["sqlite", "gsheets"])
def held(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Register, Settings]]:
    """A register where NUMERO is a member who received one alert (outbox), with its memo."""
    data = tmp_path / "data"
    if request.param == "sqlite":
        register: Register = SQLiteRegister(data / "registre.sqlite")
        settings = _settings(data, str(data / "registre.sqlite"))
    else:
        register, key = sheets_register(request.getfixturevalue("sheets"))
        settings = _settings(data, key)
    fill(register, 0, alert=prevention_alert())
    register.append(schema.INSCRIPTIONS, [_member("06 12 34 56 78", "1"),
                                          _member(OTHER, "2")])
    channel = OutboxChannel(settings.outbox, console=quiet_console(), quiet=True)
    sender = Sender(register, settings, channel=channel, console=quiet_console(),
                    progress=False)
    report = sender.run_once()
    assert len(report.dispatched) == 1
    sender.close()
    yield register, settings
    register.close()


def test_everything_held_is_found_and_exported(held: tuple[Register, Settings]) -> None:
    register, settings = held
    found = persons.find(register, settings, persons.number_of("06.12.34.56.78"))
    assert [r.get("id") for r in found.inscriptions] == ["1"]
    assert [t.alert_id for t in found.traces] == ["1"] and found.traces[0].state == "sent"
    assert found.memo == ["06 12 34 56 78"] and len(found.outbox) == 1
    text = "\n".join(persons.as_text(found))
    assert "Inscriptions (registre) : 1" in text and "confirmé par le téléphone" in text
    assert "accepté par le canal" in text and OTHER not in text
    exported = persons.as_json(found)
    assert exported["numero"] == NUMERO
    assert exported["alertes_recues"][0]["canal"] == "outbox"
    rows = list(csv.reader(io.StringIO(persons.as_csv(found)), delimiter=";"))
    assert rows[0] == ["rubrique", "ligne", "champ", "valeur"]
    assert ["inscriptions", "1", "telephone", "06 12 34 56 78"] in rows


def test_erasure_removes_the_number_everywhere_and_keeps_the_digest(
    held: tuple[Register, Settings],
) -> None:
    register, settings = held
    found = persons.find(register, settings, NUMERO)
    lines = persons.erase(register, settings, found, now=NOW)
    assert "lignes d'Inscriptions supprimées : 1" in "\n".join(lines)
    after = persons.find(register, settings, NUMERO)
    assert (after.inscriptions, after.traces, after.memo, after.outbox) == ([], [], [], [])
    assert after.suppressed_at == NOW.timestamp()
    assert "Liste de suppression : 1" in "\n".join(persons.as_text(after))
    other = persons.find(register, settings, OTHER)
    assert len(other.inscriptions) == 1 and len(other.traces) == 1
    with JournalFile(settings.journal).read() as conn:  # the alert's count is unchanged
        assert conn.execute("SELECT COUNT(*) FROM envois WHERE alert_id = '1'").fetchone() == (2,)


def test_a_suspended_member_is_kept_and_never_alerted(held: tuple[Register, Settings]) -> None:
    register, settings = held
    found = persons.find(register, settings, NUMERO)
    assert persons.set_suspended(register, found, suspended=True) == 1
    operations.clean_register(register, suppressed=SuppressionList.load(settings))
    table = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS]
    row = next(r for r in table.rows if r.get("id") == "1")
    assert row.get("statut") == schema.SUSPENDU and "suspendu" in row.get("remarque")
    register.append(schema.ALERTES, [prevention_alert("2")])  # sent to everyone…
    channel = OutboxChannel(settings.outbox, console=quiet_console(), quiet=True)
    sender = Sender(register, settings, channel=channel, console=quiet_console(), progress=False)
    sender.run_once()
    sender.close()
    sent = [m["recipient"] for m in outbox_lines(settings.outbox) if m["alert_id"] == "2"]
    assert sent == [OTHER]  # … but the suspended member
    found = persons.find(register, settings, NUMERO)
    assert persons.set_suspended(register, found, suspended=False) == 1
    operations.clean_register(register)
    table = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS]
    assert next(r for r in table.rows if r.get("id") == "1").get("statut") == schema.ACTIF


# -- the command line (SQLite) ------------------------------------------------------------------


@pytest.fixture
def local(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    register = SQLiteRegister(data / "registre.sqlite")
    fill(register, 0, alert=prevention_alert())
    register.append(schema.INSCRIPTIONS, [_member("06 12 34 56 78", "1"), _member(OTHER, "2")])
    settings = _settings(data, str(data / "registre.sqlite"))
    channel = OutboxChannel(settings.outbox, console=quiet_console(), quiet=True)
    sender = Sender(register, settings, channel=channel, console=quiet_console(), progress=False)
    sender.run_once()
    with JournalFile(settings.journal).write() as conn:  # a « STOP » received from WhatsApp
        conn.execute("INSERT INTO entrants (message_id, sender, kind, body, received_at) "
                     "VALUES ('wamid.1', '33612345678', 'desinscription', 'STOP', ?)",
                     (NOW.timestamp(),))
    sender.close()
    register.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ALERTE_REGISTRE", str(data / "registre.sqlite"))
    monkeypatch.setenv("ALERTE_JOURNAL", str(data / "journal.sqlite"))
    monkeypatch.setenv("ALERTE_OUTBOX", str(data / "outbox.jsonl"))
    monkeypatch.setenv("ALERTE_SECRET", "s" * 40)
    return data


def test_personne_prints_and_exports(local: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["personne", "06 12 34 56 78"]) == 0
    printed = capsys.readouterr().out
    assert "Données détenues pour le numéro +33612345678" in printed
    assert "« STOP » (désinscription)" in printed
    assert main(["personne", "+33 6 12 34 56 78", "--json"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["messages_recus"][0]["texte"] == "STOP"
    assert main(["personne", "0612345678", "--csv"]) == 0
    assert capsys.readouterr().out.startswith("rubrique;ligne;champ;valeur\n")
    assert main(["personne", "pas un numéro"]) == 1
    assert "n'est pas un numéro de téléphone reconnu" in capsys.readouterr().err


def test_personne_effacer_asks_first(local: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("builtins.input", lambda _prompt: "non")
    assert main(["personne", "0612345678", "--effacer"]) == 1
    assert "Effacement annulé" in capsys.readouterr().err
    monkeypatch.setattr("builtins.input", lambda _prompt: "oui")
    assert main(["personne", "0612345678", "--effacer"]) == 0
    assert "Numéro +33 6 •• •• •• 78 effacé" in capsys.readouterr().out


def test_personne_suspendre_and_reprendre(local: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["personne", "0612345678", "--suspendre"]) == 0
    assert "1 inscription(s) suspendue(s)" in capsys.readouterr().out
    assert main(["personne", "0612345678", "--suspendre"]) == 0
    assert "Aucune inscription dans l'état attendu" in capsys.readouterr().out
    assert main(["personne", "0612345678", "--reprendre"]) == 0
    assert "1 inscription(s) de nouveau active(s)" in capsys.readouterr().out


def test_purger_simulation_erases_nothing(local: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["purger", "--simulation"]) == 0
    assert "Simulation : rien n'a été effacé" in capsys.readouterr().out


def _digits_found(data: Path) -> dict[str, list[str]]:
    """Every spelling of NUMERO found in the raw bytes of the files under `data/`."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        hits = [s for s in SPELLINGS if s.encode("utf-8") in raw or s.encode("utf-16-le") in raw]
        if hits:
            found[path.name] = hits
    return found


def test_no_erased_number_survives_in_the_raw_bytes_of_data(
    local: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "registre.sqlite" in _digits_found(local)  # the search does find a held number
    assert "journal.sqlite" in str(_digits_found(local)) or "journal.sqlite-wal" in str(
        _digits_found(local))
    assert main(["personne", "06 12 34 56 78", "--effacer", "--oui"]) == 0
    capsys.readouterr()
    assert _digits_found(local) == {}
    assert PhoneCache(local / "numeros.sqlite").entries() == [(OTHER, OTHER)]
