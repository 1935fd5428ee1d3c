"""Choose the register backend from `ALERTE_REGISTRE`: a SQLite path or a Google Sheet."""

from __future__ import annotations

from sender.config import _SHEET_KEY, Settings, is_google_sheet
from sender.errors import ConfigurationError
from sender.register.base import Register

__all__ = ["is_google_sheet", "open_register", "parse_sheet_key"]


def parse_sheet_key(text: str | None) -> str | None:
    """The spreadsheet key in a Google Sheets URL or a bare key; `None` for anything else."""
    text = (text or "").strip()
    if "docs.google.com" in text or "sheets.googleapis.com" in text:
        # gspread takes a fifth of a second to import: only a sheet's URL pays for it.
        from gspread.exceptions import NoValidUrlKeyFound
        from gspread.utils import extract_id_from_url

        try:
            text = extract_id_from_url(text)
        except NoValidUrlKeyFound:
            return None
    return text if _SHEET_KEY.fullmatch(text) else None


def open_register(settings: Settings) -> Register:
    if is_google_sheet(settings.register):
        from sender.register.sheets.client import GoogleSheetsRegister

        key = parse_sheet_key(settings.register)
        if not key:
            raise ConfigurationError(
                f"ALERTE_REGISTRE ne contient pas une adresse de feuille Google lisible : "
                f"« {settings.register} »."
            )
        return GoogleSheetsRegister.from_service_account(
            key, settings.credentials, api_url=settings.sheets_api
        )
    from sender.register.sqlite import SQLiteRegister

    return SQLiteRegister(settings.register)
