"""Peak memory of real `alerte-message importer` processes: the hostile XLSX and a large list.

- `import_peak_rss_mb`: `tests/data/inscriptions-bombe.xlsx`, 1.5 MB holding a 1.5 GB sheet of
  spaces, which must be refused (rc 1, French message) without being decompressed into memory;
- `accepted_peak_rss_mb`: a well-formed XLSX of `ROWS` members, imported into a new SQLite
  register and cleaned in the same process.

Figures are each child's peak resident set size from `os.wait4` (`ru_maxrss`), as in
`bench_memory`.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from openpyxl import Workbook

from sender import schema
from sender.register.sqlite import SQLiteRegister
from support.hostile_files import DATA, HEADER, members
from support.scenario import alerte_message_bin, subprocess_env

ROWS = 50_000
BOMB = DATA / "inscriptions-bombe.xlsx"


# A child started by this (large) process inherits its peak RSS through fork/exec: a small
# launcher forks the command and reports the command's own peak, as `bench_memory` would.
_LAUNCHER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execvp(sys.argv[1], sys.argv[1:])\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "sys.stdout.write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def _peak(command: list[str], env: dict[str, str], log: Path | None) -> tuple[int, float, str]:
    result = subprocess.run([sys.executable, "-c", _LAUNCHER, *command], env=env,
                            capture_output=True, text=True, check=False)
    if log is not None:
        with log.open("a", encoding="utf-8") as handle:
            handle.write(result.stderr)
    return result.returncode, round(int(result.stdout or 0) / 1024, 1), result.stderr


def _large_xlsx(path: Path, rows: int) -> None:
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADER)
    for start in range(0, rows, 10_000):
        for row in members(min(10_000, rows - start), start=start):
            sheet.append(row)
    book.save(path)


def run(rows: int = ROWS, log_dir: Path | None = None) -> dict[str, float]:
    log = log_dir / "import.log" if log_dir else None
    with tempfile.TemporaryDirectory(prefix="bench-import-") as directory:
        tmp = Path(directory)
        register = tmp / "registre.sqlite"
        env = subprocess_env(tmp, str(register))
        subprocess.run([alerte_message_bin(), "initialiser"], env=env, check=True,
                       capture_output=True, timeout=120)  # importer never creates a register
        code, bomb_mb, stderr = _peak([alerte_message_bin(), "importer", str(BOMB)], env, log)
        if code != 1 or "refusé" not in stderr:
            raise RuntimeError(f"the hostile XLSX was not refused (rc {code}): {stderr[:200]}")
        big = tmp / "liste.xlsx"
        _large_xlsx(big, rows)
        code, accepted_mb, stderr = _peak([alerte_message_bin(), "importer", str(big)], env, log)
        if code != 0:
            raise RuntimeError(f"the large import failed (rc {code}): {stderr[:200]}")
        table = SQLiteRegister(register).read([schema.INSCRIPTIONS])[schema.INSCRIPTIONS]
        if len(table.rows) != rows:
            raise RuntimeError(f"{len(table.rows)} rows imported instead of {rows}")
    return {"import_peak_rss_mb": bomb_mb, "accepted_rows": rows,
            "accepted_peak_rss_mb": accepted_mb}


if __name__ == "__main__":
    print(run())
