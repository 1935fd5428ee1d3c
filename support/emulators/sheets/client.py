"""A real gspread client whose requests to Google go to a local emulator instead: the
register's own client (`sender.register.sheets.endpoint`), without credentials."""

from __future__ import annotations

import gspread

from sender.register.sheets.endpoint import sheets_client


def local_client(base_url: str) -> gspread.Client:
    """A real gspread client (plain HTTPClient, no auth) talking to the emulator."""
    return sheets_client(None, base_url)
