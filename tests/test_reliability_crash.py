"""`kill -9` during a dispatch, and two dispatchers at once, with a real `alerte-message` process.

The WhatsApp emulator runs in the test process, so it outlives the killed sender and tells how
many times each member was reached. Waits are bounded; nothing is asserted about time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from sender import schema
from sender.journal.journal import Journal
from sender.journal.states import PENDING, SENT
from sender.register.sqlite import SQLiteRegister
from support.scenario import (
    TimedWhatsAppEmulator,
    alert_row,
    alerte_message_bin,
    mobile,
    prevention_alert,
    sqlite_register,
    subprocess_env,
)

pytestmark = pytest.mark.skipif(os.name != "posix", reason="kill -9 needs a POSIX system")

MEMBERS = 300
CONCURRENCY = 8


def _wait_until(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def _status(path: Path, alert_id: str = "1") -> str:
    register = SQLiteRegister(path)
    try:
        return alert_row(register, alert_id)["statut"]
    finally:
        register.close()


@pytest.fixture
def setup(tmp_path: Path):
    path = tmp_path / "registre.sqlite"
    sqlite_register(path, MEMBERS, alert=prevention_alert()).close()
    with TimedWhatsAppEmulator(rate_limit=150, latency=0.05) as wa:
        env = subprocess_env(tmp_path, str(path), wa=wa, ALERTE_DEBIT="150",
                             ALERTE_CONCURRENCE=str(CONCURRENCY))
        yield tmp_path, path, wa, env


def _start(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("ab") as handle:
        return subprocess.Popen([alerte_message_bin(), "envoyer", "--une-fois"], env=env,
                                stdout=handle, stderr=handle)


def _kill_after_40_messages(env: dict[str, str], log: Path, wa) -> None:
    """Start `envoyer --une-fois`, `kill -9` it once the emulator accepted 40 messages."""
    process = _start(env, log)
    try:
        assert _wait_until(lambda: len(wa.accepted) >= 40 or process.poll() is not None)
        assert process.poll() is None, "the dispatch ended before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.slow
def test_kill_9_mid_dispatch_then_restart_reaches_everyone_once(setup):
    tmp, path, wa, env = setup
    log = tmp / "envoyer.log"
    _kill_after_40_messages(env, log, wa)
    assert _wait_until(lambda: wa.in_flight == 0, timeout=10)  # received requests finish
    accepted_before = wa.accepted_numbers()
    assert 0 < sum(accepted_before.values()) < MEMBERS
    with Journal(tmp / "journal.sqlite") as journal:
        entries = {e.numero.lstrip("+"): e.state for e in journal.entries("1")}
    unrecorded = [n for n in accepted_before if entries.get(n) != SENT]
    assert all(entries.get(n) == PENDING for n in unrecorded)
    # The journal never has more than 2 × concurrency claimed-but-unrecorded recipients.
    assert len(unrecorded) <= 2 * CONCURRENCY
    assert _status(path) == schema.EN_COURS  # not « diffusée » while messages are missing

    result = subprocess.run([alerte_message_bin(), "envoyer", "--une-fois"], env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "reprise du verrou" in result.stderr  # took over the dead process's lease
    assert _status(path) == schema.DIFFUSEE
    counts = wa.accepted_numbers()
    assert wa.missed(mobile(i) for i in range(MEMBERS)) == 0
    twice = {n for n, c in counts.items() if c > 1}
    assert twice <= set(unrecorded)  # only messages in flight at the kill can repeat
    assert all(c <= 2 for c in counts.values())


@pytest.mark.slow
def test_two_concurrent_senders_on_the_same_alert_send_no_duplicate(setup):
    tmp, path, wa, env = setup
    first = _start(env, tmp / "premier.log")
    second = _start(env, tmp / "second.log")
    try:
        assert first.wait(timeout=120) == 0
        assert second.wait(timeout=120) == 0
    finally:
        for process in (first, second):
            if process.poll() is None:
                process.kill()
    if _status(path) != schema.DIFFUSEE:  # the process that wrote last saw the other's lease
        subprocess.run([alerte_message_bin(), "envoyer", "--une-fois"], env=env,
                       capture_output=True, timeout=120, check=True)
    assert _status(path) == schema.DIFFUSEE
    assert wa.duplicates() == 0
    assert wa.missed(mobile(i) for i in range(MEMBERS)) == 0
    register = SQLiteRegister(path)
    row = alert_row(register)
    register.close()
    assert row["envoyes"] == str(MEMBERS)


@pytest.mark.slow
def test_kill_9_with_status_webhooks_sends_nobody_twice(tmp_path: Path):
    """With webhooks, the messages in flight at the kill are settled by their statuses (or
    sent again once the statuses of later messages came back): no duplicate at all."""
    from support.scenario import APP_SECRET, webhook_receiver

    path = tmp_path / "registre.sqlite"
    sqlite_register(path, MEMBERS, alert=prevention_alert()).close()
    with TimedWhatsAppEmulator(rate_limit=150, latency=0.05) as wa, \
            webhook_receiver(tmp_path / "journal.sqlite") as url:
        wa.webhooks(url, APP_SECRET, delay=0.05, duplicate=0.2, reorder=0.3)
        wa.faults(rate_lost=0.05, seed=3)  # some answers lost after acceptance, too
        env = subprocess_env(tmp_path, str(path), wa=wa, ALERTE_DEBIT="150",
                             ALERTE_CONCURRENCE=str(CONCURRENCY), WHATSAPP_APP_SECRET=APP_SECRET,
                             ALERTE_ATTENTE_STATUT="1")
        _kill_after_40_messages(env, tmp_path / "envoyer.log", wa)
        for _ in range(10):
            subprocess.run([alerte_message_bin(), "envoyer", "--une-fois"], env=env,
                           capture_output=True, timeout=120, check=True)
            if _status(path) == schema.DIFFUSEE:
                break
            time.sleep(1.0)  # ALERTE_ATTENTE_STATUT: lost answers wait for their status
        assert _status(path) == schema.DIFFUSEE
        assert wa.duplicates() == 0
        assert wa.missed(mobile(i) for i in range(MEMBERS)) == 0
