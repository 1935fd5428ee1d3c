"""The dispatch journal: states, lease, daily window, summaries, corrupt and locked files."""

from __future__ import annotations

import hashlib
import multiprocessing
import sqlite3
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sender.config import Settings
from sender.journal.journal import Journal
from sender.journal.states import (
    DEFERRED,
    FAILED,
    GAVE_UP,
    PENDING,
    SENT,
    UNCERTAIN,
    JournalBusy,
    JournalCorrupt,
    LeaseLost,
    Outcome,
)

A = "+33612345601"
B = "+33612345602"
C = "+33612345603"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def journal(tmp_path, clock):
    with Journal(tmp_path / "etat" / "journal.sqlite", clock=clock) as j:
        yield j


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_creates_parent_directory_in_wal_mode(tmp_path):
    path = tmp_path / "a" / "b" / "journal.sqlite"
    journal = Journal.from_settings(Settings(journal=path))
    journal.open_or_create()
    assert path.exists()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    journal.close()


def test_an_alert_has_started_once_any_recipient_has_a_row(journal):
    assert journal.acquire("A1", "moi", 60) and journal.acquire("A2", "moi", 60)
    assert not journal.has_started("A1")
    journal.claim("A1", "moi", [(A, "whatsapp")])
    journal.defer("A2", "moi", [B], "plafond")
    assert journal.has_started("A1") and journal.has_started("A2")
    assert not journal.has_started("A3")


def test_pending_then_sent_is_never_claimed_again(journal):
    assert journal.acquire("A1", "moi", 60)
    assert list(journal.claim("A1", "moi", [(A, "whatsapp"), (B, "whatsapp")])) == [A, B]
    assert journal.get("A1", A).state == PENDING
    journal.record("A1", [Outcome(A, SENT, "whatsapp", "wamid.1", "33612345601")])
    entry = journal.get("A1", A)
    assert (entry.state, entry.message_id, entry.wa_id) == (SENT, "wamid.1", "33612345601")
    assert entry.sent_at is not None
    # a later claim (restart) only returns what is not sent
    assert list(journal.claim("A1", "moi", [(A, "whatsapp"), (B, "whatsapp")])) == [B]
    assert journal.get("A1", B).attempts == 2
    assert {e.numero for e in journal.entries("A1") if e.state == SENT} == {A}


def test_failure_never_overwrites_sent_and_failed_is_final(journal):
    journal.acquire("A1", "moi", 60)
    journal.claim("A1", "moi", [(A, "whatsapp"), (B, "whatsapp"), (C, "whatsapp")])
    journal.record(
        "A1",
        [
            Outcome(A, SENT, "whatsapp", "m1"),
            Outcome(B, FAILED, "whatsapp", error_code="131050", error_text="refus du membre"),
            Outcome(C, GAVE_UP, "whatsapp", error_code="131000", error_text="serveur saturé"),
        ],
    )
    journal.record("A1", [Outcome(A, FAILED, "whatsapp", error_text="trop tard")])
    assert journal.get("A1", A).state == SENT
    # failed is final, gave_up is retried
    assert list(journal.claim("A1", "moi", [(A, "sms"), (B, "sms"), (C, "sms")])) == [C]
    assert journal.get("A1", C).channel == "sms"
    assert journal.get("A1", C).error_text is None


def test_other_alert_is_independent(journal):
    journal.acquire("A1", "moi", 60)
    journal.acquire("A2", "moi", 60)
    journal.claim("A1", "moi", [(A, "whatsapp")])
    journal.record("A1", [Outcome(A, SENT, "whatsapp", "m1")])
    assert list(journal.claim("A2", "moi", [(A, "whatsapp")])) == [A]


def test_lease_exclusive_renewable_expiring(journal, clock):
    assert journal.acquire("A1", "p1", 30)
    assert not journal.acquire("A1", "p2", 30)
    assert journal.acquire("A1", "p1", 30)  # renewal by the owner
    assert journal.holder("A1") == "p1"
    clock.now += 20
    assert journal.renew("A1", "p1", 30)
    clock.now += 25  # 45 s after the start, 25 s after the renewal: still held
    assert not journal.acquire("A1", "p2", 30)
    clock.now += 10  # expired: a crashed owner does not block forever
    assert journal.holder("A1") is None
    assert journal.acquire("A1", "p2", 30)
    assert not journal.renew("A1", "p1", 30)
    assert not journal.release("A1", "p1")
    with pytest.raises(LeaseLost) as info:
        journal.claim("A1", "p1", [(A, "whatsapp")])
    assert "verrou" in info.value.message
    assert journal.release("A1", "p2")
    assert journal.holder("A1") is None


def test_replace_takes_over_only_from_the_named_owner(journal):
    assert journal.acquire("A1", "mort", 300)
    assert not journal.acquire("A1", "nouveau", 300, replace="autre")
    assert journal.acquire("A1", "nouveau", 300, replace="mort")
    assert journal.holder("A1") == "nouveau"


def test_defer_keeps_sent_rows(journal):
    journal.acquire("A1", "moi", 60)
    journal.claim("A1", "moi", [(A, "whatsapp")])
    journal.record("A1", [Outcome(A, SENT, "whatsapp", "m1")])
    assert journal.defer("A1", "moi", [A, B], "plafond atteint") == 1
    assert journal.get("A1", A).state == SENT
    assert journal.get("A1", B).state == DEFERRED
    assert list(journal.claim("A1", "moi", [(B, "whatsapp")])) == [B]


def test_contacted_since_rolling_window(journal, clock):
    for alert in ("A1", "A2"):
        journal.acquire(alert, "moi", 10**6)
    journal.claim("A1", "moi", [(A, "whatsapp"), (B, "whatsapp")])
    journal.record("A1", [Outcome(A, SENT, "whatsapp", "m1"), Outcome(B, SENT, "whatsapp", "m2")])
    clock.now += 3600 * 20
    journal.claim("A2", "moi", [(A, "whatsapp"), (C, "sms")])  # A again: same unique user
    journal.record("A2", [Outcome(A, SENT, "whatsapp", "m3"), Outcome(C, SENT, "sms", "s1")])
    assert len(journal.contacted_since(channel="whatsapp")) == 2
    assert len(journal.contacted_since()) == 3
    assert journal.contacted_since(channel="sms") == {C}
    clock.now += 3600 * 5  # 25 h after A1: only A2's sends remain in the window
    assert len(journal.contacted_since(channel="whatsapp")) == 1
    assert len(journal.contacted_since(since=0.0, channel="whatsapp")) == 2


def test_failed_sends_do_not_count_but_pending_do(journal):
    journal.acquire("A1", "moi", 60)
    journal.claim("A1", "moi", [(A, "whatsapp"), (B, "whatsapp")])
    journal.record("A1", [Outcome(A, FAILED, "whatsapp", error_text="pas sur WhatsApp")])
    assert journal.contacted_since(channel="whatsapp") == {B}


def test_recent_messages_per_number_count_lost_answers_like_the_daily_window(journal):
    ids = ("confirmation-inscription-1", "confirmation-inscription-2", "confirmation-inscription-3")
    for message_id in ids:
        journal.acquire(message_id, "moi", 60)
        journal.claim(message_id, "moi", [(A, "whatsapp")])
    journal.record(ids[0], [Outcome(A, SENT, "whatsapp", "m1")])
    journal.record(ids[1], [Outcome(A, UNCERTAIN, "whatsapp", error_code="reponse_perdue")])
    # ids[2] stays pending (a crash during the send): maybe sent too
    journal.acquire("A1", "moi", 60)
    journal.claim("A1", "moi", [(A, "whatsapp")])
    journal.record("A1", [Outcome(A, SENT, "whatsapp", "m4")])  # not a confirmation
    assert journal.recent_by_recipient("confirmation-") == {A: 3}


def test_summary_counts_and_french_reasons(journal):
    journal.acquire("A1", "moi", 60)
    numbers = [f"+336123456{i:02d}" for i in range(6)]
    journal.claim("A1", "moi", [(n, "whatsapp") for n in numbers])
    journal.record(
        "A1",
        [
            Outcome(numbers[0], SENT, "whatsapp", "m"),
            Outcome(numbers[1], FAILED, "whatsapp", error_text="numéro absent de WhatsApp"),
            Outcome(numbers[2], FAILED, "whatsapp", error_text="numéro absent de WhatsApp"),
            Outcome(numbers[3], GAVE_UP, "whatsapp", error_text="service indisponible"),
        ],
    )
    journal.defer("A1", "moi", [numbers[5]], "plafond atteint")
    summary = journal.summary("A1")
    assert summary.counts == {SENT: 1, FAILED: 2, GAVE_UP: 1, PENDING: 1, DEFERRED: 1}
    assert summary.total == 6
    assert summary.failures == [("numéro absent de WhatsApp", 2), ("service indisponible", 1)]
    assert journal.summary("inconnue").total == 0


def test_garbage_file_is_refused_in_french_and_untouched(tmp_path):
    path = tmp_path / "journal.sqlite"
    path.write_bytes(b"ceci n'est pas une base SQLite\n" * 200)
    before = sha(path)
    journal = Journal(path)
    with pytest.raises(JournalCorrupt) as info:
        journal.acquire("A1", "moi", 60)
    assert "n'a pas été modifié" in info.value.message
    assert "ALERTE_JOURNAL" in info.value.message
    assert sha(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["journal.sqlite"]


def test_foreign_sqlite_file_is_refused_and_untouched(tmp_path):
    path = tmp_path / "registre.sqlite"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE Inscriptions (id TEXT, telephone TEXT)")
        conn.execute("INSERT INTO Inscriptions VALUES ('1', '0612345678')")
    conn.close()
    before = sha(path)
    with pytest.raises(JournalCorrupt) as info:
        Journal(path).open_or_create()
    assert "n'est pas un journal d'envoi" in info.value.message
    assert sha(path) == before


def test_damaged_journal_is_refused(tmp_path):
    path = tmp_path / "journal.sqlite"
    with Journal(path) as journal:
        journal.acquire("A1", "moi", 60)
        journal.claim("A1", "moi", [(f"+3361234{i:04d}", "whatsapp") for i in range(2000)])
    with sqlite3.connect(path) as conn:  # fold the WAL into the main file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    data[:16] = b"pas-une-base-sql"  # break the header
    path.write_bytes(bytes(data))
    before = sha(path)
    with pytest.raises(JournalCorrupt):
        Journal(path).summary("A1")
    assert sha(path) == before


def test_locked_journal_gives_a_french_retryable_error(tmp_path):
    path = tmp_path / "journal.sqlite"
    Journal(path).open_or_create()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        journal = Journal(path, busy_timeout=0.05)
        with pytest.raises(JournalBusy) as info:
            journal.acquire("A1", "moi", 60)
        assert info.value.retryable
        assert "verrouillé" in info.value.message
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert Journal(path).acquire("A1", "moi", 60)  # nothing was lost or broken


def test_directory_instead_of_file(tmp_path):
    with pytest.raises(Exception) as info:
        Journal(tmp_path).open_or_create()
    assert "dossier" in str(info.value)


def test_threads_share_one_journal(journal):
    journal.acquire("A1", "moi", 600)
    numbers = [f"+3361111{i:04d}" for i in range(400)]
    errors: list[BaseException] = []

    def work(part: list[str]) -> None:
        try:
            for n in part:
                journal.claim("A1", "moi", [(n, "whatsapp")])
                journal.record("A1", [Outcome(n, SENT, "whatsapp", "m-" + n)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(numbers[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert journal.summary("A1").counts == {SENT: 400}


def _race_acquire(path: str, owner: str, start, results) -> None:
    start.wait()
    results.put((owner, Journal(path).acquire("A1", owner, 300)))


@pytest.mark.slow
def test_lease_is_atomic_across_processes(tmp_path):
    path = str(tmp_path / "journal.sqlite")
    Journal(path).open_or_create()
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_race_acquire, args=(path, f"p{i}", start, results)) for i in range(6)
    ]
    for p in procs:
        p.start()
    start.set()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=120)
    winners = [owner for owner, ok in outcomes if ok]
    assert len(winners) == 1
    assert Journal(path).holder("A1") == winners[0]


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["claim", "sent", "failed", "gave_up", "defer"]),
            st.sampled_from([A, B, C]),
        ),
        max_size=30,
    )
)
def test_sent_is_absorbing_whatever_the_sequence(tmp_path_factory, operations):
    path = tmp_path_factory.mktemp("j") / "journal.sqlite"
    with Journal(path) as journal:
        journal.acquire("A1", "moi", 600)
        sent: set[str] = set()
        for op, who in operations:
            if op == "claim":
                claimed = journal.claim("A1", "moi", [(who, "whatsapp")])
                assert (who in claimed) == (
                    who not in sent and getattr(journal.get("A1", who), "state", None) == PENDING
                )
            elif op == "defer":
                journal.defer("A1", "moi", [who], "plafond")
            else:
                journal.record("A1", [Outcome(who, op, "whatsapp", "m")])
                if op == SENT and journal.get("A1", who) is not None:
                    sent.add(who)
            for number in sent:
                assert journal.get("A1", number).state == SENT


# -- format 1 journals (before status webhooks) ------------------------------------------------

_FORMAT_1 = (
    "CREATE TABLE _journal (cle TEXT PRIMARY KEY, valeur TEXT NOT NULL)",
    "INSERT INTO _journal VALUES ('format', 'alerte-message-journal/1')",
    """CREATE TABLE envois (alert_id TEXT NOT NULL, recipient TEXT NOT NULL, channel TEXT,
        state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, message_id TEXT, wa_id TEXT,
        error_code TEXT, error_text TEXT, owner TEXT, created_at REAL NOT NULL,
        updated_at REAL NOT NULL, sent_at REAL, PRIMARY KEY (alert_id, recipient))
        WITHOUT ROWID""",
    "CREATE INDEX envois_fenetre ON envois (updated_at)",
    """CREATE TABLE verrous (alert_id TEXT PRIMARY KEY, owner TEXT NOT NULL,
        acquired_at REAL NOT NULL, expires_at REAL NOT NULL)""",
)


def test_a_format_1_journal_is_upgraded_in_place_without_losing_rows(tmp_path):
    """The wrong-URL alert of a format-1 journal: its HTTP 404 failures become retryable, a
    member without WhatsApp stays final, the member reached stays reached."""
    path = tmp_path / "journal.sqlite"
    conn = sqlite3.connect(path)
    for statement in _FORMAT_1:
        conn.execute(statement)
    conn.executemany(
        "INSERT INTO envois (alert_id, recipient, channel, state, attempts, error_code, "
        "created_at, updated_at, message_id) VALUES (?, ?, 'whatsapp', ?, 1, ?, 1, 1, ?)",
        [("7", A, "failed", "http_404", None), ("7", B, "failed", "131026", None),
         ("7", C, "sent", None, "wamid.1")],
    )
    conn.commit()
    conn.close()
    with Journal(path) as journal:
        a, b, c = (journal.get("7", n) for n in (A, B, C))
        assert (a.state, a.final) == (FAILED, False)
        assert (b.state, b.final) == (FAILED, True)
        assert (c.state, c.message_id) == (SENT, "wamid.1")
        journal.acquire("7", "moi", 60)
        assert list(journal.claim("7", "moi", [(A, "whatsapp"), (B, "whatsapp")],
                                  reclaim={A})) == [A]
    with sqlite3.connect(path) as conn:
        (fmt,) = conn.execute("SELECT valeur FROM _journal WHERE cle = 'format'").fetchone()
        assert fmt == "alerte-message-journal/3"
        assert {"statuts", "entrants"} <= {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "numero" in {r[1] for r in conn.execute("PRAGMA table_info(envois)")}


def test_a_format_2_journal_gets_its_number_column_renamed_without_losing_rows(tmp_path):
    """Format 2 named the E.164 column `recipient`; format 3 calls it `numero`, like the
    register. A sent member stays sent, a pending one keeps its claim."""
    path = tmp_path / "journal.sqlite"
    with Journal(path) as journal:
        journal.acquire("7", "moi", 60)
        journal.claim("7", "moi", [(A, "whatsapp"), (B, "whatsapp")])
        journal.record("7", [Outcome(A, SENT, "whatsapp", "wamid.1")])
    with sqlite3.connect(path) as conn:  # back to what a format-2 release wrote
        conn.execute("ALTER TABLE envois RENAME COLUMN numero TO recipient")
        conn.execute("UPDATE _journal SET valeur = 'alerte-message-journal/2' "
                     "WHERE cle = 'format'")
    conn.close()
    with Journal(path) as journal:
        assert journal.get("7", A).state == SENT
        assert journal.get("7", B).state == PENDING
        assert [e.numero for e in journal.entries("7")] == sorted([A, B])
    with sqlite3.connect(path) as conn:
        (fmt,) = conn.execute("SELECT valeur FROM _journal WHERE cle = 'format'").fetchone()
        columns = {r[1] for r in conn.execute("PRAGMA table_info(envois)")}
    conn.close()
    assert fmt == "alerte-message-journal/3"
    assert "numero" in columns and "recipient" not in columns


def test_a_claim_counts_a_crashed_send_as_a_possible_copy(journal):
    journal.acquire("A1", "moi", 60)
    first = journal.claim("A1", "moi", [(A, "whatsapp")])
    assert first[A].endswith(":1:A1")  # attempt 1 in the callback
    # the process dies: the row stays pending; the next claim counts one possible copy
    second = journal.claim("A1", "moi", [(A, "whatsapp")])
    assert second[A].endswith(":2:A1")
    assert journal.get("A1", A).uncertain == 1
    journal.record("A1", [Outcome(A, UNCERTAIN, "whatsapp", error_code="reponse_perdue")])
    assert journal.get("A1", A).uncertain == 2 and journal.get("A1", A).possible_copies == 2
