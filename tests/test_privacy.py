"""Files and folders the project creates hold full numbers and messages: they are readable by
their owner only (0600 / 0700), whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from sender import schema
from sender.channels.base import OutgoingMessage
from sender.channels.outbox import OutboxChannel
from sender.cleaning.phonecache import PhoneCache
from sender.journal.journal import Journal
from sender.register.sqlite import SQLiteRegister
from support.scenario import quiet_console


@pytest.fixture(params=[0o000, 0o022])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_data_file_and_folder_is_private(tmp_path: Path, umask: int) -> None:
    data = tmp_path / "data" / "alerte"
    register = SQLiteRegister(data / "registre.sqlite")
    register.initialise()
    register.append(schema.INSCRIPTIONS, [{"nom": "Marie", "telephone": "+33612345678"}])
    journal = Journal(data / "journal.sqlite")
    journal.acquire("1", "moi", 60)
    cache = PhoneCache(data / "numeros.sqlite")
    cache("06 12 34 56 78")
    cache.save()
    outbox = OutboxChannel(data / "outbox.jsonl", console=quiet_console(), quiet=True)
    outbox.deliver(OutgoingMessage(alert_id="1", numero="+33612345678", text="Bonjour"))
    try:
        files = [data / name for name in (
            "registre.sqlite", "registre.sqlite-wal", "registre.sqlite-shm",
            "journal.sqlite", "journal.sqlite-wal", "journal.sqlite-shm",
            "numeros.sqlite", "outbox.jsonl",
        )]
        assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
        assert oct(mode(tmp_path / "data")) == "0o700"
        assert oct(mode(data)) == "0o700"
    finally:
        register.close()
        journal.close()
        outbox.close()


def test_an_existing_folder_keeps_its_mode(tmp_path: Path, umask: int) -> None:
    shared = tmp_path / "partage"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    SQLiteRegister(shared / "registre.sqlite").initialise()
    assert oct(mode(shared)) == "0o755"
    assert oct(mode(shared / "registre.sqlite")) == "0o600"
