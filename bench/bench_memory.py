"""Peak memory of a real `alerte-message envoyer --une-fois` sending one alert to 100,000 members.

The register is a SQLite file with 100,000 clean sign-ups (distinct mobiles) and one prevention
alert; the channel is the outbox (a JSONL file in a temporary directory, its printed lines
discarded). The figure is the child's peak resident set size as the kernel reports it to
`os.wait4` (`ru_maxrss`, the whole process: interpreter, libraries and data).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from sender import schema
from sender.register.sqlite import SQLiteRegister
from support.scenario import (
    alert_row,
    alerte_message_bin,
    prevention_alert,
    sqlite_register,
    subprocess_env,
)

ROWS = 100_000


def run(rows: int = ROWS, log_dir: Path | None = None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-memoire-") as directory:
        tmp = Path(directory)
        path = tmp / "registre.sqlite"
        sqlite_register(path, rows, alert=prevention_alert()).close()
        env = subprocess_env(tmp, str(path), ALERTE_CANAL="outbox")
        errors = open(log_dir / "memory.log", "ab") if log_dir else subprocess.DEVNULL  # noqa: SIM115
        try:
            process = subprocess.Popen(
                [alerte_message_bin(), "envoyer", "--une-fois"], env=env,
                stdout=subprocess.DEVNULL, stderr=errors,
            )
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
        finally:
            if log_dir:
                errors.close()  # type: ignore[union-attr]
        if process.returncode != 0:
            raise RuntimeError(f"alerte-message envoyer exited with {process.returncode}")
        register = SQLiteRegister(path)
        row = alert_row(register)
        register.close()
        with (tmp / "outbox.jsonl").open(encoding="utf-8") as outbox:
            written = sum(1 for _ in outbox)
        if row["statut"] != schema.DIFFUSEE or written != rows:
            raise RuntimeError(f"dispatch incomplete: {row['statut']!r}, {written} messages")
    return {"rows": rows, "peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}  # kB on Linux


if __name__ == "__main__":
    print(run())
