"""Full and read-only disks never kill `surveiller`, lose nothing and send nothing twice.

The journal lives on a real tmpfs mounted for the test (small, then full, then read-only), as
on a server whose disk fills up. Mounting needs root (as in CI); elsewhere these tests say so
and are skipped.
"""

from __future__ import annotations

import io
import json
import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

from sender import schema
from sender.config import Settings
from sender.errors import AlerteError
from sender.journal.journal import Journal
from sender.journal.states import SENT, JournalError, Outcome
from sender.register.sqlite import SQLiteRegister
from sender.runner import Sender
from support.scenario import alert_row, fill, prevention_alert
from support.unavailable import unavailable


class Disk:
    """A tmpfs mounted on `path`, resizable and switchable to read-only."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _mount(self, *args: str) -> None:
        subprocess.run(["mount", *args], check=True, capture_output=True)

    def resize(self, size: str) -> None:
        self._mount("-o", f"remount,size={size}", str(self.path))

    def read_only(self, on: bool) -> None:
        self._mount("-o", "remount," + ("ro" if on else "rw"), str(self.path))

    def fill(self) -> Path:
        """Take every free byte with a filler file; return it (delete it to free the space)."""
        filler = self.path / "remplissage"
        with filler.open("wb", buffering=0) as handle:
            try:
                while True:
                    handle.write(b"\0" * 4096)
            except OSError:
                pass
        return filler


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Disk]:
    mount_point = tmp_path / "disque"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        unavailable(f"cannot mount a tmpfs here (root needed): {result.stderr.strip()}")
    try:
        yield Disk(mount_point)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_a_failed_commit_on_a_full_disk_gives_a_french_error(disk: Disk) -> None:
    journal = Journal(disk.path / "journal.sqlite")
    journal.open_or_create()
    disk.fill()
    with pytest.raises(JournalError) as caught:
        for number in range(200):  # enough rows to need a new page whatever the free space
            assert journal.acquire(f"A{number}", "moi", 60)
    message = caught.value.message
    assert "plein" in message and "cannot rollback" not in message
    assert caught.value.retryable
    journal.close()


def test_results_kept_in_memory_when_the_disk_fills_are_written_later(disk: Disk) -> None:
    journal = Journal(disk.path / "journal.sqlite")
    assert journal.acquire("1", "moi", 600)
    journal.claim("1", "moi", [("+33600000001", "outbox"), ("+33600000002", "outbox")])
    filler = disk.fill()
    with pytest.raises(JournalError):
        journal.record("1", [Outcome(f"+3360000000{n}", "sent", "outbox") for n in (1, 2)]
                       + [Outcome(f"+3361{n:08d}", "sent", "outbox") for n in range(2000)])
    assert journal.results_held_in_memory > 0
    filler.unlink()
    assert journal.claim("1", "moi", [("+33600000001", "outbox")]) == {}  # sent: never again
    assert journal.results_held_in_memory == 0
    sent = {e.numero for e in journal.entries("1") if e.state == SENT}
    assert sent >= {"+33600000001", "+33600000002"}
    journal.close()


def _everyone_reached_once(loop: Loop, tmp_path: Path, register: SQLiteRegister,
                           members: int) -> None:
    """The loop survived, every member got exactly one message, the alert is « diffusée »."""
    assert loop.failed is None
    counts = _outbox_counts(tmp_path / "outbox.jsonl")
    assert len(counts) == members and set(counts.values()) == {1}
    assert alert_row(register)["statut"] == schema.DIFFUSEE


def _outbox_counts(path: Path) -> Counter[str]:
    if not path.exists():
        return Counter()
    lines = path.read_text(encoding="utf-8").splitlines()
    return Counter(json.loads(line)["recipient"] for line in lines)


class Loop:
    """`Sender.watch` (the `surveiller` loop) in a thread, one pass per `step()`."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.stop = threading.Event()
        self.go = threading.Semaphore(0)
        self.done = threading.Semaphore(0)
        self.failed: BaseException | None = None
        sender.settings = replace(sender.settings, poll_seconds=0.05)
        run_once, skipped = sender.run_once, sender._skipped

        def gated_run_once():  # each pass waits for the test's go-ahead
            self.go.acquire()
            return run_once()

        def skipped_then_done(reason: str) -> None:
            skipped(reason)
            self.done.release()

        sender.run_once = gated_run_once  # type: ignore[method-assign]
        sender._skipped = skipped_then_done  # type: ignore[method-assign]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.sender.watch(self.stop, lambda report: self.done.release())
        except BaseException as exc:  # what the test must never see
            self.failed = exc

    def step(self) -> None:
        self.go.release()
        assert self.done.acquire(timeout=120), "a pass did not finish"

    def close(self) -> None:
        self.stop.set()
        self.go.release()
        self.thread.join(timeout=30)


def _sender(tmp_path: Path, disk: Disk, members: int) -> tuple[SQLiteRegister, Sender, io.StringIO]:
    register = SQLiteRegister(tmp_path / "registre.sqlite")
    fill(register, members, alert=prevention_alert())
    settings = Settings(register=str(register.path), journal=disk.path / "journal.sqlite",
                        outbox=tmp_path / "outbox.jsonl")
    screen = io.StringIO()
    sender = Sender(register, settings, console=Console(file=screen, width=200), progress=False)
    sender.channels.primary.quiet = True  # type: ignore[attr-defined]
    return register, sender, screen


@pytest.mark.slow
def test_surveiller_skips_passes_while_the_journal_disk_is_full_then_sends_each_once(
    tmp_path: Path, disk: Disk
) -> None:
    register, sender, screen = _sender(tmp_path, disk, 3000)
    loop = Loop(sender)
    try:
        loop.step()  # the journal fills the 1 MB disk during the dispatch
        assert "Passage ignoré" in screen.getvalue() and "plein" in screen.getvalue()
        assert loop.thread.is_alive() and loop.failed is None
        sent_before = _outbox_counts(tmp_path / "outbox.jsonl")
        assert 0 < sum(sent_before.values()) < 3000  # the disk filled mid-dispatch
        loop.step()  # still full: skipped again, nothing sent twice
        assert _outbox_counts(tmp_path / "outbox.jsonl") == sent_before
        disk.resize("64m")
        loop.step()
        loop.step()
    finally:
        loop.close()
        sender.close()
    _everyone_reached_once(loop, tmp_path, register, 3000)
    assert "cannot rollback" not in screen.getvalue()
    assert "disk" not in screen.getvalue().lower()


@pytest.mark.slow
def test_surveiller_skips_passes_while_the_journal_disk_is_read_only(
    tmp_path: Path, disk: Disk
) -> None:
    disk.resize("64m")
    register, sender, screen = _sender(tmp_path, disk, 50)
    with Journal(disk.path / "journal.sqlite") as journal:
        journal.open_or_create()  # the journal exists; the disk turns read-only (no writer open)
    disk.read_only(True)
    loop = Loop(sender)
    try:
        loop.step()
        loop.step()
        text = screen.getvalue()
        assert text.count("Passage ignoré") == 2 and "lecture seule" in text
        assert _outbox_counts(tmp_path / "outbox.jsonl") == Counter()
        assert alert_row(register)["statut"] in (schema.A_DIFFUSER, schema.EN_COURS)
        disk.read_only(False)
        loop.step()
        loop.step()
    finally:
        loop.close()
        sender.close()
    _everyone_reached_once(loop, tmp_path, register, 50)


def test_register_on_a_read_only_disk_gives_a_french_retryable_error(
    tmp_path: Path, disk: Disk
) -> None:
    disk.resize("64m")
    register = SQLiteRegister(disk.path / "registre.sqlite")
    fill(register, 3, alert=prevention_alert())
    register.close()
    disk.read_only(True)
    with pytest.raises(AlerteError) as caught:
        SQLiteRegister(disk.path / "registre.sqlite").append(
            schema.INSCRIPTIONS, [{"nom": "X", "telephone": "0612345678"}]
        )
    assert caught.value.retryable
    assert "lecture seule" in caught.value.message
