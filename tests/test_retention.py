"""Retention periods applied by the software (issue 18): on SQLite and on the Sheets emulator,
with a simulated clock; the suppression list stops an old list from re-subscribing a number."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sender import operations, schema
from sender.cleaning.suppressions import SuppressionList
from sender.config import Retention, Settings
from sender.dates import PARIS, format_french
from sender.journal.file import JournalFile
from sender.journal.journal import Journal
from sender.journal.privacy import ERASED_PREFIX, add_suppressions
from sender.journal.states import SENT, Outcome
from sender.privacy.retention import months_before, purge
from sender.register.base import Register
from sender.register.sqlite import SQLiteRegister
from support.emulators.sheets import SheetsEmulator
from support.scenario import sheets_register

START = datetime(2026, 3, 2, 9, 0, tzinfo=PARIS)
GONE = "+33611111111"
KEPT = "+33622222222"


@dataclass
class Case:
    register: Register
    settings: Settings
    backend: str
    sheets: SheetsEmulator | None = None
    key: str = ""


def _settings(tmp_path: Path, register: str) -> Settings:
    data = tmp_path / "data"
    return Settings(register=register, journal=data / "journal.sqlite",
                    outbox=data / "outbox.jsonl", secret="s" * 40)


@pytest.fixture(params=["sqlite", "gsheets"])
def case(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Case]:
    if request.param == "sqlite":
        path = tmp_path / "data" / "registre.sqlite"
        made = Case(SQLiteRegister(path), _settings(tmp_path, str(path)), "sqlite")
    else:
        sheets = request.getfixturevalue("sheets")
        register, key = sheets_register(sheets)
        made = Case(register, _settings(tmp_path, key), "gsheets", sheets, key)
    made.register.initialise()
    yield made
    made.register.close()


def _member(numero: str, row_id: str, **extra: str) -> dict[str, str]:
    row = {"id": row_id, "horodatage": "01/02/2026 09:00", "source": "import",
           "nom": f"Membre {row_id}", "entreprise": "Boulangerie", "activite": "Services",
           "commune": "Mende", "telephone": numero, "consentement": "oui"}
    row.update(extra)
    return row


def _clean(case: Case) -> None:
    operations.clean_register(case.register, suppressed=SuppressionList.load(case.settings))


def _numbers(case: Case, tab: str) -> list[str]:
    table = case.register.read([tab])[tab]
    return [row.get("telephone") for row in table.rows]


def test_an_unsubscribed_member_is_erased_after_the_period_and_stays_out(case: Case) -> None:
    case.register.append(schema.INSCRIPTIONS, [_member(GONE, "1"), _member(KEPT, "2")])
    case.register.append(schema.DESINSCRIPTIONS, [
        {"horodatage": format_french(START), "telephone": "06 11 11 11 11", "source": "saisie"}
    ])
    _clean(case)
    statuses = {r.get("telephone"): r.get("statut") for r in
                case.register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS].rows}
    assert statuses == {GONE: schema.DESINSCRIT, KEPT: schema.ACTIF}

    day = START + timedelta(days=1)
    assert purge(case.register, case.settings, now=day).inscriptions == 0
    # 29 days after: still there; a simulation 31 days after says what it would erase.
    assert purge(case.register, case.settings, now=START + timedelta(days=29)).inscriptions == 0
    later = START + timedelta(days=31, hours=1)
    simulated = purge(case.register, case.settings, now=later, simulation=True)
    assert (simulated.inscriptions, simulated.desinscriptions) == (1, 1)
    assert "serait effacé" in "\n".join(simulated.lines())
    assert _numbers(case, schema.INSCRIPTIONS) == [GONE, KEPT]

    done = purge(case.register, case.settings, now=later)
    assert (done.inscriptions, done.desinscriptions, len(done.erased_numbers)) == (1, 1, 1)
    assert _numbers(case, schema.INSCRIPTIONS) == [KEPT]
    assert _numbers(case, schema.DESINSCRIPTIONS) == []
    suppression = SuppressionList.load(case.settings)
    assert suppression(GONE) is not None and suppression(KEPT) is None
    assert GONE not in str(suppression.erased)  # only keyed digests are kept

    # An old list imported again: the number does not become « actif ».
    csv = Path(str(case.settings.journal.parent / "liste.csv"))
    csv.write_text("nom;entreprise;commune;telephone;consentement\n"
                   "Membre 1;Boulangerie;Mende;06 11 11 11 11;oui\n", "utf-8")
    imported = operations.import_file(case.register, csv, suppressed=suppression)
    assert imported.results[0] is not None
    assert imported.results[0].statut == schema.DESINSCRIT
    assert "nouvelle inscription confirmée" in imported.results[0].remarque


def test_the_reimported_row_without_suppression_list_would_be_active(case: Case) -> None:
    """The same import without the list: the rule above is what keeps the number out."""
    csv = case.settings.journal.parent / "liste.csv"
    csv.parent.mkdir(parents=True, exist_ok=True)
    csv.write_text("nom;entreprise;commune;telephone;consentement\n"
                   "Membre 1;Boulangerie;Mende;06 11 11 11 11;oui\n", "utf-8")
    imported = operations.import_file(case.register, csv)
    assert imported.results[0] is not None and imported.results[0].statut == schema.ACTIF


def test_a_confirmed_new_sign_up_after_the_erasure_is_active(tmp_path: Path) -> None:
    register = SQLiteRegister(tmp_path / "r.sqlite")
    register.initialise()
    settings = _settings(tmp_path, str(tmp_path / "r.sqlite"))
    erased_at = START.timestamp()
    suppression = SuppressionList.load(settings)
    add_suppressions(JournalFile(settings.journal), [suppression.digest(GONE)], erased_at)
    register.append(schema.INSCRIPTIONS, [
        _member(GONE, "1"),  # an old import
        _member(GONE, "2", source="formulaire", horodatage="10/03/2026 10:00",
                confirme_le="10/03/2026 10:05"),
    ])
    report = operations.clean_register(register, suppressed=SuppressionList.load(settings))
    statuses = sorted(r.statut for r in report.results.values())
    assert statuses == [schema.ACTIF, schema.DESINSCRIT]
    register.close()


def test_unconfirmed_requests_are_erased_after_their_expiry_and_the_period(case: Case) -> None:
    made = START - timedelta(days=40)
    case.register.append(schema.INSCRIPTIONS, [
        _member(GONE, "1", source="formulaire", horodatage=format_french(made)),
        _member(KEPT, "2", source="formulaire", horodatage=format_french(START)),
    ])
    case.register.append(schema.DESINSCRIPTIONS, [
        {"horodatage": format_french(made), "telephone": "06 33 33 33 33",
         "source": "formulaire"},
    ])
    _clean(case)
    # 40 days after the request: the link expired after 7, the period of 30 is over.
    report = purge(case.register, case.settings, now=START)
    assert (report.requests, report.unsubscription_requests) == (1, 1)
    assert _numbers(case, schema.INSCRIPTIONS) == [KEPT]
    assert _numbers(case, schema.DESINSCRIPTIONS) == []
    # The recent one goes 7 + 30 days after it was made, not before.
    assert purge(case.register, case.settings,
                 now=START + timedelta(days=36)).inscriptions == 0
    assert purge(case.register, case.settings,
                 now=START + timedelta(days=37, hours=1)).inscriptions == 1


def test_the_periods_come_from_the_settings(case: Case) -> None:
    settings = replace(case.settings, retention=Retention(unsubscribed_days=2))
    case.register.append(schema.INSCRIPTIONS, [_member(GONE, "1", statut=schema.DESINSCRIT)])
    purge(case.register, settings, now=START)  # first seen unsubscribed now
    assert purge(case.register, settings, now=START + timedelta(days=1)).inscriptions == 0
    assert purge(case.register, settings, now=START + timedelta(days=2, hours=1)).inscriptions == 1


def test_old_send_traces_lose_the_number_and_the_counts_stay(tmp_path: Path) -> None:
    settings = _settings(tmp_path, str(tmp_path / "r.sqlite"))
    register = SQLiteRegister(tmp_path / "r.sqlite")
    register.initialise()
    journal = Journal(settings.journal)
    journal.acquire("1", "moi", 60)
    journal.acquire("2", "moi", 60)
    journal.claim("1", "moi", [(GONE, "outbox"), (KEPT, "outbox")])
    journal.record("1", [Outcome(GONE, SENT, "outbox", "m1"), Outcome(KEPT, SENT, "outbox", "m2")])
    journal.claim("2", "moi", [(GONE, "outbox")])
    journal.record("2", [Outcome(GONE, SENT, "outbox", "m3")])
    old = months_before(START, 13).timestamp()
    with JournalFile(settings.journal).write() as conn:
        conn.execute("UPDATE envois SET updated_at = ?, sent_at = ?, created_at = ? "
                     "WHERE alert_id = '1'", (old, old, old))
    before = journal.send_times(["1", "2"])
    report = purge(register, settings, now=START)
    assert report.traces == 2
    assert journal.send_times(["1", "2"]) == before  # the report of an old period still works
    with JournalFile(settings.journal).read() as conn:
        rows = conn.execute("SELECT alert_id, numero, message_id FROM envois "
                            "ORDER BY alert_id, numero").fetchall()
    assert [r[0] for r in rows] == ["1", "1", "2"]
    assert all(r[1].startswith(ERASED_PREFIX) and r[2] is None for r in rows[:2])
    assert rows[2][1] == GONE  # recent: kept
    journal.close()
    register.close()


def test_the_memo_and_the_outbox_keep_only_what_is_still_needed(tmp_path: Path) -> None:
    from sender.cleaning.phonecache import PhoneCache

    settings = _settings(tmp_path, str(tmp_path / "r.sqlite"))
    register = SQLiteRegister(tmp_path / "r.sqlite")
    register.initialise()
    register.append(schema.INSCRIPTIONS, [_member("06 22 22 22 22", "1")])
    memo = PhoneCache(settings.phone_cache_path)
    memo("06 22 22 22 22")
    memo("06 11 11 11 11")  # a number no longer in the register
    memo.save()
    settings.outbox.write_text(
        '{"recipient": "+33611111111", "time": "2025-01-01T09:00:00+01:00"}\n'
        '{"recipient": "+33622222222", "time": "2026-03-01T09:00:00+01:00"}\n', "utf-8")
    simulated = purge(register, settings, now=START, simulation=True)
    assert (simulated.memo, simulated.outbox) == (1, 1)
    assert len(PhoneCache(settings.phone_cache_path).entries()) == 2
    report = purge(register, settings, now=START)
    assert (report.memo, report.outbox) == (1, 1)
    assert [raw for raw, _ in PhoneCache(settings.phone_cache_path).entries()] == [
        "06 22 22 22 22"]
    assert "+33611111111" not in settings.outbox.read_text("utf-8")
    register.close()


def test_months_before_keeps_the_day_within_the_month() -> None:
    assert months_before(datetime(2026, 3, 31, 12, tzinfo=PARIS), 1).day == 28
    assert months_before(START, 12) == START.replace(year=2025)


def test_sheets_rows_are_deleted_by_identity_after_a_sort(sheets: SheetsEmulator) -> None:
    register, key = sheets_register(sheets)
    register.initialise()
    register.append(schema.INSCRIPTIONS, [_member(f"+3361000000{i}", str(i)) for i in range(5)])
    table = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS]
    wanted = [r.key for r in table.rows if r.get("id") in ("1", "3")]
    sheets.sort_rows(key, schema.INSCRIPTIONS, "id", reverse=True)  # staff sort meanwhile
    assert register.delete_rows(schema.INSCRIPTIONS, wanted) == 2
    left = register.read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS]
    assert sorted(r.get("id") for r in left.rows) == ["0", "2", "4"]
    kinds = [next(iter(r)) for r in sheets.spreadsheet(key).batch_requests]
    assert "deleteDimension" in kinds
    register.close()


def test_surveiller_applies_the_periods_when_it_starts(tmp_path: Path) -> None:
    import threading

    from sender.runner import Sender
    from support.scenario import quiet_console

    path = tmp_path / "data" / "registre.sqlite"
    register = SQLiteRegister(path)
    register.initialise()
    register.append(schema.INSCRIPTIONS, [
        _member(GONE, "1", source="formulaire",
                horodatage=format_french(START - timedelta(days=60))),
        _member(KEPT, "2"),
    ])
    settings = _settings(tmp_path, str(path))
    sender = Sender(register, settings, console=quiet_console(), progress=False,
                    clock=lambda: START)
    stop = threading.Event()
    sender.watch(stop, lambda _report: stop.set())
    sender.close()
    assert _numbers(Case(register, settings, "sqlite"), schema.INSCRIPTIONS) == [KEPT]
    register.close()


def test_the_emulator_refuses_deletions_google_refuses(sheets: SheetsEmulator) -> None:
    import gspread

    from support.emulators.sheets.client import local_client

    key = "1Ab" + "d" * 30 + "del"
    sheets.create_spreadsheet(key, {"Feuille 1": [["a"], ["b"], ["c"]]})
    http = local_client(sheets.base_url).http_client
    sheet_id = sheets.sheet(key, "Feuille 1").sheet_id
    rows = sheets.sheet(key, "Feuille 1").row_count

    def delete(start: int, end: int, dimension: str = "ROWS") -> None:
        http.batch_update(key, {"requests": [{"deleteDimension": {"range": {
            "sheetId": sheet_id, "dimension": dimension, "startIndex": start,
            "endIndex": end}}}]})

    with pytest.raises(gspread.exceptions.APIError, match="can't delete all the rows"):
        delete(0, rows)
    with pytest.raises(gspread.exceptions.APIError, match="Invalid range"):
        delete(2, rows + 5)
    delete(1, 2)
    assert sheets.values(key, "Feuille 1") == [["a"], ["c"]]
    assert sheets.sheet(key, "Feuille 1").row_count == rows - 1


def test_the_report_agrees_its_verbs_with_the_members() -> None:
    from sender.privacy.retention import PurgeReport

    simulated = PurgeReport(True, ["+33 7 •• •• •• 56"], inscriptions=1).lines()
    assert simulated[0] == "Membres désinscrits (seraient effacés) : 1 (+33 7 •• •• •• 56)"
    done = PurgeReport(False, ["+33 7 •• •• •• 56"], inscriptions=1).lines()
    assert done[0].startswith("Membres désinscrits (effacés) : 1")
