"""The dispatcher: exactly once, resume after a crash, lease, daily limit, fallback, batch stop.

Fake channels implement `_send_once` only; `Channel.deliver` (throttle + retries) is the real
one. No assertion depends on timing. Run as a module, this file is also the child process of the
crash and two-process tests: `python -m tests.test_dispatch_dispatcher JOURNAL OUT ALERT N …`.
"""

from __future__ import annotations

import io
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console

from sender.alerts.compose import ComposedMessage
from sender.channels.base import (
    BatchStopError,
    Channel,
    OutgoingMessage,
    RecipientError,
    RetryableError,
    RetryPolicy,
    SendResult,
)
from sender.config import Settings
from sender.dispatch.dispatcher import Dispatcher
from sender.dispatch.messages import AlertMessages
from sender.errors import ConfigurationError, InputError
from sender.journal.journal import Journal
from sender.journal.states import DEFERRED, GAVE_UP, PENDING, SENT, JournalCorrupt
from support.scenario import mobiles

ROOT = Path(__file__).resolve().parents[1]


class FakeChannel(Channel):
    """Records every attempt; `errors[recipient]` is raised (or called) for that recipient."""

    def __init__(self, name: str = "whatsapp", *, errors=None, gate=None, **kwargs) -> None:
        kwargs.setdefault("rate_per_second", 1e9)
        kwargs.setdefault("retry", RetryPolicy(max_attempts=2, base_delay=0))
        kwargs.setdefault("sleep", lambda _s: None)
        super().__init__(**kwargs)
        self.name = name
        self.errors = errors or {}
        self.gate = gate  # threading.Event: every send waits for it
        self.entered = threading.Semaphore(0)  # released once per send started
        self.lock = threading.Lock()
        self.calls: list[OutgoingMessage] = []
        self.active = 0
        self.peak_active = 0

    def _send_once(self, message: OutgoingMessage) -> SendResult:
        with self.lock:
            self.calls.append(message)
            self.active += 1
            self.peak_active = max(self.peak_active, self.active)
        self.entered.release()
        try:
            if self.gate is not None:
                self.gate.wait()
            error = self.errors.get(message.numero)
            if callable(error) and not isinstance(error, BaseException):
                error = error(message)
            if error is not None:
                raise error
            return SendResult(self.name, f"{self.name}-{len(self.calls)}", wa_id="wa")
        finally:
            with self.lock:
                self.active -= 1

    def sent_to(self) -> Counter:
        with self.lock:
            return Counter(m.numero for m in self.calls)


class FileChannel(Channel):
    """Appends one line per send to a file (atomic O_APPEND writes): survives `kill -9`."""

    name = "whatsapp"

    def __init__(self, path: str, pause: float = 0.0) -> None:
        super().__init__(rate_per_second=1e9)
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self.pause = pause

    def _send_once(self, message: OutgoingMessage) -> SendResult:
        if self.pause:
            time.sleep(self.pause)  # pacing only, so the parent can kill us mid-dispatch
        os.write(self.fd, f"{message.numero}\n".encode())
        return SendResult(self.name, "f-" + message.numero)


def quiet() -> Console:
    return Console(file=io.StringIO(), force_terminal=False, width=120)


def make(tmp_path: Path, channel: Channel, **kwargs) -> Dispatcher:
    kwargs.setdefault("console", quiet())
    kwargs.setdefault("concurrency", 4)
    return Dispatcher(Journal(tmp_path / "journal.sqlite"), channel, **kwargs)


def compose(alert: str = "A1") -> AlertMessages:
    return AlertMessages(
        alert,
        ComposedMessage(
            "whatsapp",
            "Alerte vol à Mende : individu en scooter rouge.",
            template="alerte_commercants",
            parameters={"type": "vol", "commune": "Mende"},
        ),
        sms=ComposedMessage("sms", "ALERTE vol a Mende : individu en scooter rouge."),
    )


# -- exactly once ---------------------------------------------------------------------------


def test_exactly_once_across_two_runs(tmp_path):
    channel = FakeChannel()
    targets = mobiles(300)
    first = make(tmp_path, channel).dispatch("A1", targets + targets[:10], compose())
    assert (first.recipients, first.sent, first.failed, first.not_sent) == (300, 300, 0, 0)
    assert first.complete and first.sent_now == 300
    second = make(tmp_path, channel).dispatch("A1", targets, compose())
    assert second.complete and second.sent == 300 and second.sent_now == 0
    assert set(channel.sent_to().values()) == {1}
    assert len(channel.sent_to()) == 300
    message = channel.calls[0]
    assert message.template == "alerte_commercants"
    assert dict(message.parameters) == {"type": "vol", "commune": "Mende"}
    journal = Journal(tmp_path / "journal.sqlite")
    assert journal.summary("A1").counts == {SENT: 300}
    assert journal.holder("A1") is None  # lease released


def test_empty_recipient_list(tmp_path):
    report = make(tmp_path, FakeChannel()).dispatch("A1", [], compose())
    assert report.complete and report.recipients == 0


def test_interrupt_mid_dispatch_then_resume(tmp_path):
    """A Ctrl-C (or SystemExit) in the middle: recorded sends are not repeated on restart."""
    calls = {"n": 0}
    lock = threading.Lock()

    def boom(_message):
        with lock:
            calls["n"] += 1
            if calls["n"] == 40:
                return KeyboardInterrupt()
        return None

    targets = mobiles(200)
    channel = FakeChannel(errors=dict.fromkeys(targets, boom))
    dispatcher = make(tmp_path, channel)
    with pytest.raises(KeyboardInterrupt):
        dispatcher.dispatch("A1", targets, compose())
    journal = Journal(tmp_path / "journal.sqlite")
    assert journal.holder("A1") is None  # released on the way out
    sent_before = {e.numero for e in journal.entries("A1") if e.state == SENT}
    assert 0 < len(sent_before) < 200
    first_calls = channel.sent_to()

    channel.errors = {}
    report = make(tmp_path, channel).dispatch("A1", targets, compose())
    assert report.complete and report.sent == 200
    totals = channel.sent_to()
    for number in sent_before:
        assert totals[number] == first_calls[number] == 1  # never sent again
    assert set(totals) == set(targets)


# -- crash with kill -9 and two processes (real subprocesses) --------------------------------


def child(journal: str, out: str, alert: str, count: int, pause: float, concurrency: int) -> None:
    dispatcher = Dispatcher(
        Journal(journal), FileChannel(out, pause), concurrency=concurrency, console=quiet()
    )
    report = dispatcher.dispatch(alert, mobiles(count), compose(alert))
    print("BUSY" if report.busy else f"SENT {report.sent_now}", flush=True)


def spawn(tmp_path: Path, count: int, pause: float, concurrency: int) -> subprocess.Popen:
    args = [str(tmp_path / "journal.sqlite"), str(tmp_path / "out.txt"), "A1", str(count)]
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.test_dispatch_dispatcher",
            *args,
            str(pause),
            str(concurrency),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


def lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


@pytest.mark.slow
def test_kill_9_in_the_middle_then_restart(tmp_path):
    concurrency, count = 4, 400
    proc = spawn(tmp_path, count, pause=0.01, concurrency=concurrency)
    out = tmp_path / "out.txt"
    while len(lines(out)) < 60 and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the child finished before being killed"
    before = Counter(lines(out))
    assert 0 < len(before) < count

    journal = Journal(tmp_path / "journal.sqlite")
    recorded = {e.numero for e in journal.entries("A1") if e.state == SENT}
    pending = [e for e in journal.entries("A1") if e.state == PENDING]
    assert pending, "the kill should leave claimed, unrecorded recipients"

    # restart in this process: the dead child's lease is taken over at once (same host)
    restart = Dispatcher(journal, FileChannel(str(out)), concurrency=concurrency, console=quiet())
    report = restart.dispatch("A1", mobiles(count), compose())
    assert report.complete and report.sent == count
    after = Counter(lines(out))
    assert set(after) == set(mobiles(count))
    duplicates = [n for n, c in after.items() if c > 1]
    assert all(after[n] == 1 for n in recorded)  # recorded as sent → never again
    assert len(duplicates) <= 2 * concurrency  # at most the sends in flight at the kill
    assert all(c <= 2 for c in after.values())


@pytest.mark.slow
def test_two_processes_on_the_same_alert(tmp_path):
    procs = [spawn(tmp_path, 300, pause=0.001, concurrency=4) for _ in range(2)]
    outputs = [p.communicate(timeout=240)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    sent = Counter(lines(tmp_path / "out.txt"))
    assert set(sent) == set(mobiles(300))
    assert set(sent.values()) == {1}, "a recipient got the alert twice"
    total = sum(int(o.split()[1]) for o in outputs if o.startswith("SENT"))
    assert total == 300


def test_two_threads_on_the_same_alert(tmp_path):
    gate = threading.Event()
    channel = FakeChannel(gate=gate)
    targets = mobiles(50)
    first = make(tmp_path, channel)
    result = {}
    worker = threading.Thread(
        target=lambda: result.update(r=first.dispatch("A1", targets, compose()))
    )
    worker.start()
    channel.entered.acquire()  # the first dispatcher is now sending
    second = make(tmp_path, channel).dispatch("A1", targets, compose())
    assert second.busy and not second.complete
    assert second.stopped_motif == "déjà en cours d'envoi par un autre processus"
    assert second.sent_now == 0
    gate.set()
    worker.join()
    assert result["r"].complete
    assert set(channel.sent_to().values()) == {1} and len(channel.sent_to()) == 50
    assert "déjà en cours d'envoi" in second.summary_line()


def test_expired_lease_of_a_crashed_owner_is_taken_over(tmp_path):
    now = {"t": 1_900_000_000.0}
    journal = Journal(tmp_path / "journal.sqlite", clock=lambda: now["t"])
    assert journal.acquire("A1", "autre-machine:123:abc", 60)
    channel = FakeChannel()
    dispatcher = Dispatcher(journal, channel, console=quiet(), lease_seconds=60)
    busy = dispatcher.dispatch("A1", mobiles(5), compose())
    assert busy.busy and not channel.calls
    now["t"] += 61
    report = dispatcher.dispatch("A1", mobiles(5), compose())
    assert report.complete and len(channel.calls) == 5


def test_lease_of_a_dead_local_process_is_taken_over(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead = f"{socket.gethostname()}:{done.stdout.strip()}:abc"
    journal = Journal(tmp_path / "journal.sqlite")
    assert journal.acquire("A1", dead, 3600)
    report = Dispatcher(journal, FakeChannel(), console=quiet()).dispatch(
        "A1", mobiles(3), compose()
    )
    assert report.complete


def test_live_local_process_keeps_its_lease(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite")
    alive = f"{socket.gethostname()}:{os.getppid()}:abc"
    assert journal.acquire("A1", alive, 3600)
    report = Dispatcher(journal, FakeChannel(), console=quiet()).dispatch(
        "A1", mobiles(3), compose()
    )
    assert report.busy


def test_lease_stolen_mid_dispatch_stops_new_sends(tmp_path):
    """If a stalled dispatcher loses its lease, it stops claiming: no double sending."""
    journal_path = tmp_path / "journal.sqlite"
    targets = mobiles(200)
    thief = Journal(journal_path)

    def steal(_message):
        holder = thief.holder("A1")
        if holder != "voleur":
            assert thief.acquire("A1", "voleur", 3600, replace=holder)
        return None

    channel = FakeChannel(errors={targets[5]: steal})
    report = make(tmp_path, channel, concurrency=1).dispatch("A1", targets, compose())
    assert report.stopped_motif and "verrou" in report.stopped_motif
    assert report.sent + report.not_sent == 200 and report.not_sent > 150
    assert thief.holder("A1") == "voleur"  # the release did not remove the new owner's lease


def test_heartbeat_renews_a_short_lease(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite")
    seen: list[float] = []
    renewed = threading.Event()

    def wait_for_renewal(_message):
        with sqlite3.connect(tmp_path / "journal.sqlite") as conn:
            first = conn.execute("SELECT expires_at FROM verrous").fetchone()[0]
        for _ in range(3000):  # polls until the heartbeat has extended the lease
            with sqlite3.connect(tmp_path / "journal.sqlite") as conn:
                now = conn.execute("SELECT expires_at FROM verrous").fetchone()[0]
            if now > first:
                seen.append(now)
                renewed.set()
                return None
            time.sleep(0.01)
        return None

    targets = mobiles(3)
    channel = FakeChannel(errors={targets[0]: wait_for_renewal})
    report = Dispatcher(
        journal, channel, console=quiet(), concurrency=1, lease_seconds=0.3
    ).dispatch("A1", targets, compose())
    assert renewed.is_set() and report.complete


# -- daily limit ----------------------------------------------------------------------------


def test_daily_limit_defers_with_policy_reporter(tmp_path):
    now = {"t": 1_900_000_000.0}
    journal = Journal(tmp_path / "journal.sqlite", clock=lambda: now["t"])
    channel = FakeChannel()
    earlier = mobiles(2, start=1000) + mobiles(1)  # mobiles(1)[0] is also in this alert
    Dispatcher(journal, channel, console=quiet()).dispatch("A0", earlier, compose("A0"))
    assert len(journal.contacted_since(channel="whatsapp")) == 3

    dispatcher = Dispatcher(journal, channel, console=quiet(), daily_limit=6)
    report = dispatcher.dispatch("A1", mobiles(10), compose())
    # 3 units left: 3 new numbers + the one already contacted today (free)
    assert (report.sent, report.deferred, report.not_sent) == (4, 6, 0)
    assert not report.complete
    assert any("reportés" in note and "WhatsApp" in note for note in report.notes)
    states = Counter(e.state for e in journal.entries("A1"))
    assert states == {SENT: 4, DEFERRED: 6}
    assert "prochain cycle" in journal.entries("A1")[-1].error_text

    again = dispatcher.dispatch("A1", mobiles(10), compose())  # same window: nothing moves
    assert (again.sent, again.deferred, again.sent_now) == (4, 6, 0)

    now["t"] += 25 * 3600  # the rolling window has moved on
    later = dispatcher.dispatch("A1", mobiles(10), compose())
    assert later.complete and later.sent_now == 6
    per_alert = Counter((m.alert_id, m.numero) for m in channel.calls)
    assert set(per_alert.values()) == {1}


def test_daily_limit_sends_the_rest_by_sms_with_policy_sms(tmp_path):
    channel, sms = FakeChannel(), FakeChannel("sms")
    report = make(tmp_path, channel, fallback=sms, daily_limit=4, over_limit_policy="sms").dispatch(
        "A1", mobiles(10), compose()
    )
    assert report.complete and report.sent == 10
    assert report.sent_by_fallback == 6
    assert len(channel.calls) == 4 and len(sms.calls) == 6
    assert all(m.template is None and m.text.startswith("ALERTE vol a Mende") for m in sms.calls)
    assert any("par SMS au lieu de WhatsApp" in note for note in report.notes)
    assert "dont 6 par SMS de secours" in report.summary_line()
    journal = Journal(tmp_path / "journal.sqlite")
    assert len(journal.contacted_since(channel="whatsapp")) == 4
    assert len(journal.contacted_since(channel="sms")) == 6


def test_policy_sms_without_fallback_defers_and_says_why(tmp_path):
    report = make(tmp_path, FakeChannel(), daily_limit=2, over_limit_policy="sms").dispatch(
        "A1", mobiles(5), compose()
    )
    assert (report.sent, report.deferred) == (2, 3)
    assert any("aucun canal SMS de secours" in note for note in report.notes)


def test_unknown_policy_is_refused_in_french():
    with pytest.raises(ConfigurationError, match="ALERTE_DEPASSEMENT doit valoir reporter ou sms"):
        Settings.from_env({"ALERTE_DEPASSEMENT": "jamais"})


# -- errors: fallback, give up, batch stop ---------------------------------------------------


def test_not_on_whatsapp_goes_to_sms_fallback(tmp_path):
    targets = mobiles(20)
    not_on_wa = RecipientError("numéro absent de WhatsApp", code="131026", try_sms=True)
    refused = RecipientError("le membre a bloqué les messages", code="131047")
    errors = dict.fromkeys(targets[:5], not_on_wa) | dict.fromkeys(targets[5:8], refused)
    channel, sms = FakeChannel(errors=errors), FakeChannel("sms")
    report = make(tmp_path, channel, fallback=sms).dispatch("A1", targets, compose())
    assert (report.sent, report.failed, report.sent_by_fallback) == (17, 3, 5)
    assert report.complete
    assert {m.numero for m in sms.calls} == set(targets[:5])
    assert all(m.text.startswith("ALERTE") and m.template is None for m in sms.calls)
    assert report.failure_motifs == {"le membre a bloqué les messages": 3}
    assert report.failure_lines() == ["3 × le membre a bloqué les messages"]
    journal = Journal(tmp_path / "journal.sqlite")
    assert journal.get("A1", targets[0]).channel == "sms"
    assert journal.get("A1", targets[0]).state == SENT
    assert journal.get("A1", targets[6]).error_code == "131047"
    # a second run sends nothing: failures are final
    again = make(tmp_path, channel, fallback=sms).dispatch("A1", targets, compose())
    assert again.sent_now == 0 and again.failed == 3
    assert again.failure_motifs == {"le membre a bloqué les messages": 3}


def test_fallback_failure_is_explained(tmp_path):
    targets = mobiles(3)
    channel = FakeChannel(
        errors={targets[0]: RecipientError("absent", code="131026", try_sms=True)}
    )
    sms = FakeChannel("sms", errors={targets[0]: RecipientError("numéro refusé par l'opérateur")})
    report = make(tmp_path, channel, fallback=sms).dispatch("A1", targets, compose())
    assert report.failed == 1
    (reason,) = report.failure_motifs
    assert "SMS de secours impossible : numéro refusé par l'opérateur" in reason


def test_try_sms_without_fallback_is_a_plain_failure(tmp_path):
    targets = mobiles(2)
    channel = FakeChannel(
        errors={targets[0]: RecipientError("absent", code="131026", try_sms=True)}
    )
    report = make(tmp_path, channel).dispatch("A1", targets, compose())
    assert (report.sent, report.failed) == (1, 1)


def test_retries_exhausted_are_given_up_and_retried_next_run(tmp_path):
    targets = mobiles(6)
    down = RetryableError("service WhatsApp momentanément indisponible", code="131000")
    channel = FakeChannel(errors={targets[0]: down})
    report = make(tmp_path, channel).dispatch("A1", targets, compose())
    assert (report.sent, report.failed, report.not_sent) == (5, 0, 1)
    assert not report.complete
    assert channel.sent_to()[targets[0]] == 2  # RetryPolicy(max_attempts=2) inside deliver
    assert Journal(tmp_path / "journal.sqlite").get("A1", targets[0]).state == GAVE_UP
    channel.errors = {}
    again = make(tmp_path, channel).dispatch("A1", targets, compose())
    assert again.complete and again.sent_now == 1


def test_batch_stop_stops_new_sends_and_reports(tmp_path):
    targets = mobiles(100)
    token = BatchStopError("le jeton d'accès WhatsApp a expiré : le renouveler", code="190")
    channel = FakeChannel(errors={targets[10]: token})
    report = make(tmp_path, channel, concurrency=1).dispatch("A1", targets, compose())
    assert report.stopped_motif == "le jeton d'accès WhatsApp a expiré : le renouveler"
    assert "Envoi arrêté" in report.summary_line()
    # the send queued behind the failing one may already have started (one worker)
    assert report.sent in (10, 11) and report.failed == 0
    assert report.sent + report.not_sent == 100 and not report.complete
    assert len(channel.calls) == report.sent + 1
    journal = Journal(tmp_path / "journal.sqlite")
    assert journal.get("A1", targets[10]).state == GAVE_UP
    assert journal.get("A1", targets[50]) is None  # never claimed
    assert PENDING not in Counter(e.state for e in journal.entries("A1"))
    assert journal.holder("A1") is None
    channel.errors = {}
    again = make(tmp_path, channel, concurrency=1).dispatch("A1", targets, compose())
    assert again.complete and again.sent == 100
    attempts = channel.sent_to()
    assert attempts.pop(targets[10]) == 2  # refused once (token), then sent
    assert set(attempts.values()) == {1}


def test_batch_stop_with_many_workers_lets_in_flight_finish(tmp_path):
    targets = mobiles(500)
    stop = BatchStopError("compte WhatsApp bloqué", code="368")
    channel = FakeChannel(errors={targets[20]: stop})
    dispatcher = make(tmp_path, channel, concurrency=8)
    report = dispatcher.dispatch("A1", targets, compose())
    assert report.stopped_motif == "compte WhatsApp bloqué"
    journal = Journal(tmp_path / "journal.sqlite")
    states = Counter(e.state for e in journal.entries("A1"))
    assert PENDING not in states  # every in-flight send was recorded
    assert states[SENT] == report.sent == len(channel.calls) - 1
    assert len(channel.calls) <= 21 + 2 * 8
    assert report.sent + report.not_sent == 500


def test_compose_error_is_a_recipient_failure(tmp_path):
    targets = mobiles(3)

    def build(channel: str, numero: str) -> OutgoingMessage:
        if numero == targets[1]:
            raise InputError("le texte de l'alerte est vide")
        return OutgoingMessage("A1", numero, "texte")

    report = make(tmp_path, FakeChannel()).dispatch("A1", targets, build)
    assert (report.sent, report.failed) == (2, 1)
    assert report.failure_motifs == {"le texte de l'alerte est vide": 1}


def test_unexpected_adapter_bug_stops_the_batch(tmp_path):
    targets = mobiles(30)
    channel = FakeChannel(errors={targets[3]: KeyError("wamid")})
    report = make(tmp_path, channel, concurrency=1).dispatch("A1", targets, compose())
    assert report.stopped_motif.startswith("erreur inattendue du canal whatsapp (KeyError)")
    assert report.sent in (3, 4)  # the one queued behind it may have started


def test_phone_numbers_in_error_texts_are_masked(tmp_path):
    targets = mobiles(1)
    error = RecipientError(f"numéro {targets[0]} inconnu de l'opérateur")
    report = make(tmp_path, FakeChannel(errors={targets[0]: error})).dispatch(
        "A1", targets, compose()
    )
    (reason,) = report.failure_motifs
    assert targets[0] not in reason and "+33 6 •• •• ••" in reason
    assert targets[0] not in Journal(tmp_path / "journal.sqlite").get("A1", targets[0]).error_text


# -- scale and display ----------------------------------------------------------------------


@pytest.mark.slow
def test_100000_recipients_keep_outstanding_sends_bounded(tmp_path):
    channel = FakeChannel()
    dispatcher = make(tmp_path, channel, concurrency=16)
    report = dispatcher.dispatch("A1", mobiles(100_000), compose())
    assert report.complete and report.sent == 100_000
    assert len(channel.calls) == 100_000
    assert dispatcher.peak_outstanding <= 2 * 16  # never 100,000 futures at once
    assert channel.peak_active <= 16


def test_progress_bar_and_table_on_a_terminal(tmp_path):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120, color_system=None)
    assert console.is_terminal
    sms = FakeChannel("sms")
    targets = mobiles(12)
    channel = FakeChannel(
        errors={
            targets[0]: RecipientError("absent", try_sms=True),
            targets[1]: RecipientError("numéro refusé"),
        }
    )
    report = Dispatcher(
        Journal(tmp_path / "j.sqlite"), channel, fallback=sms, console=console
    ).dispatch("A1", targets, compose())
    text = buffer.getvalue()
    for word in (
        "Alerte A1",
        "Envoyés",
        "Échecs",
        "Reportés",
        "Durée",
        "dont 1 par SMS",
        "1 × numéro refusé",
    ):
        assert word in text
    assert report.sent == 11


def test_one_line_summary_when_not_a_terminal(tmp_path):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=False, width=300)
    report = Dispatcher(Journal(tmp_path / "j.sqlite"), FakeChannel(), console=console).dispatch(
        "A7", mobiles(3), compose("A7")
    )
    output = buffer.getvalue().strip().splitlines()
    assert output == [report.summary_line()]
    assert output[0].startswith("Alerte A7 : 3 destinataires, 3 envoyés, 0 échec — ")


def test_corrupt_journal_stops_before_any_send(tmp_path):
    path = tmp_path / "journal.sqlite"
    path.write_bytes(b"\x00garbage" * 1000)
    before = path.read_bytes()
    channel = FakeChannel()
    with pytest.raises(JournalCorrupt, match="aucun message n'a été envoyé"):
        Dispatcher(Journal(path), channel, console=quiet()).dispatch("A1", mobiles(3), compose())
    assert not channel.calls
    assert path.read_bytes() == before


if __name__ == "__main__":
    journal_path, out_path, alert_id, how_many, pause_s, workers = sys.argv[1:7]
    child(journal_path, out_path, alert_id, int(how_many), float(pause_s), int(workers))
