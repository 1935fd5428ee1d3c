"""Exactly once with status webhooks: `kill -9` again and again under the fault mix.

Like `crash`, a real `alerte-message envoyer --une-fois` (2,000 members, 500 msg/s,
`ALERTE_CONCURRENCE=32`) is killed with SIGKILL at random moments, 12 times, then run until the
row reads « diffusée ». In this process live the WhatsApp emulator (it survives the kills) and
the sender's webhook receiver (`/webhooks/whatsapp`, storing into the same journal file).

Faults (the mix of `faults`, plus answers lost after acceptance): 10 % HTTP 5xx; 5 % requests
that hang 1.5 s then lose their connection unprocessed (HTTP timeout 1 s); 3 % requests
accepted whose answer is lost; random bursts of ten 130429. The emulator posts signed statuses
(`sent`, `delivered`, sometimes `read`) 50 ms after acceptance, 10 % of them twice, 20 % of
messages with their statuses in reverse order. `ALERTE_ATTENTE_STATUT=3`: a send whose answer
was lost waits 3 s for its status before being resent.

- `duplicates`: messages accepted beyond the first per member (target 0);
- `missed`: members never reached (must be 0);
- `uncertain_sends`: sends whose fate was unknown (lost answer, or in flight at a kill),
  settled by a status or resent after the wait.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

from sender import schema
from sender.register.sqlite import SQLiteRegister
from support.scenario import (
    APP_SECRET,
    TimedWhatsAppEmulator,
    alert_row,
    alerte_message_bin,
    kill_mid_dispatch,
    mobile,
    prevention_alert,
    sqlite_register,
    subprocess_env,
    webhook_receiver,
)

RECIPIENTS = 2000
KILLS = 12
CONCURRENCY = 32
RATE = 500
WAIT = 3.0
FINAL_RUNS = 15


def _status(path: Path) -> str:
    register = SQLiteRegister(path)
    try:
        return alert_row(register)["statut"]
    finally:
        register.close()


def run(recipients: int = RECIPIENTS, kills: int = KILLS, seed: int = 48,
        log_dir: Path | None = None) -> dict[str, int]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-crash-") as directory:
        tmp = Path(directory)
        path = tmp / "registre.sqlite"
        journal = tmp / "journal.sqlite"
        sqlite_register(path, recipients, alert=prevention_alert()).close()
        logs = open(log_dir / "webhook_crash.log", "ab") if log_dir else subprocess.DEVNULL  # noqa: SIM115
        with TimedWhatsAppEmulator(rate_limit=RATE, latency=0.02) as wa, \
                webhook_receiver(journal) as url:
            wa.webhooks(url, APP_SECRET, delay=0.05, duplicate=0.1, reorder=0.2, read=0.3,
                        seed=seed)
            wa.faults(rate_5xx=0.10, rate_timeout=0.05, rate_lost=0.03, burst_130429=0.003,
                      burst_length=10, hang_seconds=1.5, seed=seed)
            env = subprocess_env(
                tmp, str(path), wa=wa, ALERTE_DEBIT=str(RATE),
                ALERTE_CONCURRENCE=str(CONCURRENCY), ALERTE_DELAI_HTTP="1",
                WHATSAPP_APP_SECRET=APP_SECRET, ALERTE_ATTENTE_STATUT=str(WAIT),
            )
            command = [alerte_message_bin(), "envoyer", "--une-fois"]
            done_kills = runs = 0
            try:
                while done_kills < kills and runs < kills * 3:
                    runs += 1
                    if kill_mid_dispatch(command, env, logs, wa, rng) is not None:
                        done_kills += 1
                finished = False
                for _ in range(FINAL_RUNS):
                    subprocess.run(command, env=env, stdout=logs, stderr=logs, timeout=180,
                                   check=False)
                    finished = _status(path) == schema.DIFFUSEE
                    if finished:
                        break
                    time.sleep(WAIT)  # lost answers wait for their status before a resend
            finally:
                if log_dir:
                    logs.close()  # type: ignore[union-attr]
            wa.faults()
            wa.flush_webhooks(timeout=60)
            if not finished:
                raise RuntimeError("the alert never reached « diffusée »")
            missed = wa.missed(mobile(i) for i in range(recipients))
            duplicates = wa.duplicates()
            posted = wa.poster.posted if wa.poster else 0
        with sqlite3.connect(journal) as conn:
            (uncertain,) = conn.execute("SELECT COALESCE(SUM(uncertain), 0) FROM envois "
                                        "WHERE alert_id = '1'").fetchone()
    return {
        "recipients": recipients,
        "kills": done_kills,
        "missed": missed,
        "duplicates": duplicates,
        "uncertain_sends": int(uncertain),
        "webhooks_posted": posted,
    }


if __name__ == "__main__":
    print(run())
