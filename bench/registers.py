"""The two registers a benchmark can run on: the SQLite file (the default) and the Google
register, through the Sheets emulator in a process of its own (`GOOGLE_SHEETS_API_URL`), as a
real `alerte-message` process reaches it.

    with register_backend("sheets", tmp, members=2000, alert=prevention_alert()) as backend:
        register = backend.open()                 # a register of the benchmark's own
        env = backend.env(subprocess_env(tmp, backend.spec, wa=wa))
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sender.config import GOOGLE_SHEETS_API
from sender.register.base import Register
from sender.register.sheets.client import GoogleSheetsRegister
from sender.register.sqlite import SQLiteRegister
from support.emulators.process import SheetsProcess
from support.scenario import fill

SHEET_KEY = "1AbCBenchRegistreGoogleLozere0123456789"
KINDS = ("sqlite", "sheets")


@dataclass
class Backend:
    """Where the register is (`spec`, the value of ALERTE_REGISTRE) and how to reach it."""

    kind: str
    spec: str
    sheets: SheetsProcess | None = None

    @property
    def api(self) -> str:
        """GOOGLE_SHEETS_API_URL of this register."""
        return self.sheets.base_url if self.sheets else GOOGLE_SHEETS_API

    def open(self) -> Register:
        if self.sheets is None:
            return SQLiteRegister(self.spec)
        return GoogleSheetsRegister.from_service_account(
            self.spec, None, api_url=self.sheets.base_url, sleep=lambda _s: None
        )

    def env(self, base: Mapping[str, str]) -> dict[str, str]:
        """A subprocess environment (`subprocess_env`) pointed at this register."""
        env = dict(base)
        if self.sheets is not None:
            env["GOOGLE_SHEETS_API_URL"] = self.sheets.base_url
        return env

    def refused(self) -> int:
        """Sheets API requests answered with an error (a 400: one Google would refuse)."""
        return len(self.sheets.refused()) if self.sheets else 0

    def requests(self) -> int:
        """Sheets API requests served so far (0 for SQLite)."""
        return int(self.sheets.stats()["total"]) if self.sheets else 0


@contextmanager
def register_backend(kind: str, tmp: Path, members: int, *,
                     alert: Mapping[str, str] | None = None, **options: Any) -> Iterator[Backend]:
    """A register of `kind` with its tabs, templates, one officer, `members` clean sign-ups
    and the alert (`support.scenario.fill`)."""
    if kind not in KINDS:
        raise ValueError(f"unknown register kind {kind!r}")
    if kind == "sqlite":
        backend = Backend(kind, str(tmp / "registre.sqlite"))
        _filled(backend, members, alert, **options)
        yield backend
        return
    with SheetsProcess(SHEET_KEY) as sheets:
        backend = Backend(kind, SHEET_KEY, sheets)
        _filled(backend, members, alert, **options)
        yield backend


def _filled(backend: Backend, members: int, alert: Mapping[str, str] | None,
            **options: Any) -> None:
    register = backend.open()
    try:
        fill(register, members, alert=alert, **options)
    finally:
        register.close()
