"""Crash safety: `kill -9` a real `alerte-message envoyer --une-fois` again and again, on the
SQLite register (`crash`) or on the Google register through the Sheets emulator in its own
process, which survives the kills like Google (`crash_sheets`).

The WhatsApp emulator runs in this process (it survives the kills) with 20 ms of latency and a
500 msg/s limit. Each run of the CLI uses the same register and journal; it is killed with
SIGKILL at a random moment (mostly while messages are in flight, sometimes during start-up), then
restarted, until `kills` kills are done; a last run (or a few) then finishes the alert, which must
end « diffusée ».

- `missed`: members the emulator never accepted a message for (must be 0);
- `duplicates`: messages accepted beyond the first for the same number;
- `in_flight_at_kills`: after each kill, numbers the emulator accepted but the journal does not
  record as `sent` (accepted in the last instant before the kill); only these can be sent twice,
  so `duplicates <= in_flight_at_kills`;
- `concurrency`: sends in flight at once (`ALERTE_CONCURRENCE`); the dispatcher never has more
  than 2 × concurrency claimed-but-unrecorded recipients, which bounds `in_flight_at_kills` per
  kill.
"""

from __future__ import annotations

import random
import subprocess
import tempfile
import time
from pathlib import Path

from bench.registers import Backend, register_backend
from sender import schema
from sender.journal.journal import Journal
from sender.journal.states import SENT
from support.scenario import (
    TimedWhatsAppEmulator,
    alert_row,
    alerte_message_bin,
    kill_mid_dispatch,
    mobile,
    prevention_alert,
    subprocess_env,
)

RECIPIENTS = 2000
KILLS = 12
CONCURRENCY = 32
RATE = 500


def _unrecorded(journal_path: Path, wa: TimedWhatsAppEmulator, alert_id: str, since: int) -> int:
    """Messages accepted by the emulator since index `since` whose number the journal does not
    hold as `sent`: accepted in the last instant before the kill, they will be sent again."""
    with wa._lock:
        numbers = [a.to for a in wa.accepted[since:]]
    with Journal(journal_path) as journal:
        sent = {e.numero.lstrip("+") for e in journal.entries(alert_id) if e.state == SENT}
    return sum(1 for number in numbers if number not in sent)


def _finished(backend: Backend) -> bool:
    register = backend.open()
    try:
        return alert_row(register)["statut"] == schema.DIFFUSEE
    finally:
        register.close()


def run(recipients: int = RECIPIENTS, kills: int = KILLS, seed: int = 48,
        concurrency: int = CONCURRENCY, log_dir: Path | None = None,
        register: str = "sqlite") -> dict[str, int]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as directory, \
            TimedWhatsAppEmulator(rate_limit=RATE, latency=0.02) as wa, \
            register_backend(register, Path(directory), recipients,
                             alert=prevention_alert()) as backend:
        tmp = Path(directory)
        env = backend.env(subprocess_env(tmp, backend.spec, wa=wa, ALERTE_DEBIT=str(RATE),
                                         ALERTE_CONCURRENCE=str(concurrency)))
        command = [alerte_message_bin(), "envoyer", "--une-fois"]
        name = "crash.log" if register == "sqlite" else f"crash_{register}.log"
        logs = open(log_dir / name, "ab") if log_dir else subprocess.DEVNULL  # noqa: SIM115
        done_kills = 0
        in_flight = 0
        runs = 0
        try:
            while done_kills < kills and runs < kills * 3:
                runs += 1
                before = kill_mid_dispatch(command, env, logs, wa, rng)
                if before is not None:
                    done_kills += 1
                    time.sleep(0.15)  # let the emulator finish requests already received
                    in_flight += _unrecorded(tmp / "journal.sqlite", wa, "1", before)
            finished = False
            for _ in range(5):
                result = subprocess.run(command, env=env, stdout=logs, stderr=logs, timeout=120,
                                        check=False)
                finished = _finished(backend)
                if finished and result.returncode == 0:
                    break
        finally:
            if log_dir:
                logs.close()  # type: ignore[union-attr]
        if not finished:
            raise RuntimeError("the alert never reached « diffusée » after the kills")
        result = {
            "recipients": recipients,
            "kills": done_kills,
            "missed": wa.missed(mobile(i) for i in range(recipients)),
            "duplicates": wa.duplicates(),
            "in_flight_at_kills": in_flight,
            "concurrency": concurrency,
        }
        if backend.sheets is not None:
            result["refused_requests"] = backend.refused()
    return result


if __name__ == "__main__":
    print(run())
