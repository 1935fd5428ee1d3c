"""OutboxChannel: JSONL content, printed lines, concurrency and disk errors."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import pytest
from rich.console import Console

from sender.channels.base import BatchStopError, OutgoingMessage
from sender.channels.outbox import OutboxChannel


def message(numero: str = "+33612345678", text: str = "Vol à Mende [urgent] : vigilance.",
            alert_id: str = "A1") -> OutgoingMessage:
    return OutgoingMessage(
        alert_id=alert_id, numero=numero, text=text, template="alerte_commerces",
        parameters={"type": "Vol", "commune": "Mende"},
    )


def console() -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, width=200, color_system=None, highlight=False), buffer


def read_lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_each_message_is_one_json_line(tmp_path):
    path = tmp_path / "sortie" / "outbox.jsonl"
    out, _ = console()
    channel = OutboxChannel(path, console=out)
    first = channel.deliver(message())
    second = channel.deliver(message("+33698765432", alert_id="A2"))
    channel.close()
    records = read_lines(path)
    assert len(records) == 2
    record = records[0]
    assert set(record) == {"alert_id", "recipient", "text", "template", "parameters",
                           "button_payload", "channel", "time", "id"}
    assert record["recipient"] == "+33612345678"
    assert record["text"] == "Vol à Mende [urgent] : vigilance."
    assert record["template"] == "alerte_commerces"
    assert record["parameters"] == {"type": "Vol", "commune": "Mende"}
    assert record["channel"] == "outbox"
    assert datetime.fromisoformat(record["time"]).tzinfo is not None
    assert record["id"] == first.message_id
    assert records[1]["id"] == second.message_id != first.message_id
    assert "à" in path.read_text(encoding="utf-8")  # UTF-8, not \u escapes


def test_messages_are_appended_across_runs(tmp_path):
    path = tmp_path / "outbox.jsonl"
    for run in range(3):
        channel = OutboxChannel(path, quiet=True)
        channel.deliver(message(alert_id=f"A{run}"))
        channel.close()
    assert [r["alert_id"] for r in read_lines(path)] == ["A0", "A1", "A2"]


def test_printed_line_is_french_and_masks_the_number(tmp_path):
    out, buffer = console()
    OutboxChannel(tmp_path / "o.jsonl", console=out).deliver(message())
    printed = buffer.getvalue()
    assert "Message simulé" in printed
    assert "+33 6 •• •• •• 78" in printed
    assert "33612345678" not in printed
    assert "[urgent]" in printed  # user text is not taken for rich markup


def test_quiet_prints_nothing(tmp_path):
    out, buffer = console()
    OutboxChannel(tmp_path / "o.jsonl", console=out, quiet=True).deliver(message())
    assert buffer.getvalue() == ""


def test_concurrent_writes_give_whole_lines(tmp_path):
    path = tmp_path / "outbox.jsonl"
    channel = OutboxChannel(path, quiet=True)
    targets = [f"+336{n:08d}" for n in range(1000)]
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: channel.deliver(message(n, text="x" * 500)), targets))
    channel.close()
    records = read_lines(path)
    assert len(records) == 1000
    assert sorted(r["recipient"] for r in records) == sorted(targets)
    assert len({r.message_id for r in results}) == 1000


def test_disk_error_stops_the_batch_in_french(tmp_path):
    channel = OutboxChannel(tmp_path, quiet=True)  # a directory cannot be opened for writing
    with pytest.raises(BatchStopError) as caught:
        channel.deliver(message())
    assert "Impossible d'écrire dans le fichier de sortie" in caught.value.message
    assert str(tmp_path) in caught.value.message
