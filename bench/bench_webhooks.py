"""Status webhooks ingested per second, each one on disk before its `200`.

An alert of 3,000 recipients is in the journal, as after its dispatch (claimed, accepted). The
sender's intake application (waitress, the webhook at `/webhooks/whatsapp`) receives, from 8
client connections posting like Meta does, one signed POST per status: `sent` then `delivered`
for every message, 6,000 POSTs. Each POST is checked (signature), stored and applied to its
journal row in one transaction on a connection in `synchronous=FULL` mode before the answer.

- `per_second`: POSTs answered `200` per second (one status each);
- every status must then be in the journal and every row `delivered`, else the run fails.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from sender.delivery.signature import sign
from sender.journal.journal import Journal
from sender.journal.states import SENT, Outcome
from support.emulators.webhooks import envelope, status_item
from support.scenario import APP_SECRET, PHONE_ID, mobile, webhook_receiver

RECIPIENTS = 3000
CLIENTS = 8


def _prepare(path: Path, recipients: int) -> list[bytes]:
    """The journal of a dispatched alert, and the bodies of its status webhooks."""
    numbers = [mobile(i) for i in range(recipients)]
    with Journal(path) as journal:
        journal.acquire("1", "bench", 600)
        callbacks = journal.claim("1", "bench", [(n, "whatsapp") for n in numbers])
        journal.record("1", [Outcome(n, SENT, "whatsapp", f"wamid.{i}")
                             for i, n in enumerate(numbers)])
        journal.release("1", "bench")
    bodies = []
    for status in ("sent", "delivered"):
        for i, number in enumerate(numbers):
            item = status_item(f"wamid.{i}", status, number[1:], callbacks[number])
            bodies.append(json.dumps(envelope("messages", {"statuses": [item]}, PHONE_ID))
                          .encode())
    return bodies


def _client(url: str, bodies: list[bytes], failures: list[int]) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    for body in bodies:
        conn.request("POST", parts.path, body, {
            "Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET),
        })
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            failures.append(response.status)
    conn.close()


def run(recipients: int = RECIPIENTS, clients: int = CLIENTS) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as directory:
        path = Path(directory) / "journal.sqlite"
        bodies = _prepare(path, recipients)
        # `sent` statuses first, then `delivered`: each client takes every n-th POST.
        shares = [bodies[i::clients] for i in range(clients)]
        failures: list[int] = []
        with webhook_receiver(path) as url:
            threads = [threading.Thread(target=_client, args=(url, share, failures))
                       for share in shares]
            started = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            seconds = time.perf_counter() - started
        if failures:
            raise RuntimeError(f"{len(failures)} webhook POSTs not answered 200: {failures[:5]}")
        with sqlite3.connect(path) as conn:
            (stored,) = conn.execute("SELECT COUNT(*) FROM statuts").fetchone()
            (delivered,) = conn.execute(
                "SELECT COUNT(*) FROM envois WHERE delivery = 'delivered'").fetchone()
        if stored != len(bodies) or delivered != recipients:
            raise RuntimeError(f"stored {stored}/{len(bodies)}, delivered {delivered}")
    return {
        "statuses": len(bodies),
        "clients": clients,
        "seconds": round(seconds, 3),
        "per_second": round(len(bodies) / seconds, 1),
    }


if __name__ == "__main__":
    print(run())
