"""A real gspread client whose requests to Google go to a local emulator instead."""

from __future__ import annotations

from typing import Any

import gspread
import requests

GOOGLE_ORIGINS = ("https://sheets.googleapis.com", "https://www.googleapis.com")


class RedirectSession(requests.Session):
    """A requests session that sends Google API calls to a local emulator instead."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(self, method: str | bytes, url: str | bytes, *args: Any,
                **kwargs: Any) -> requests.Response:
        text = url.decode() if isinstance(url, bytes) else url
        for origin in GOOGLE_ORIGINS:
            if text.startswith(origin):
                text = self.base_url + text[len(origin) :]
                break
        return super().request(method, text, *args, **kwargs)


def local_client(base_url: str) -> gspread.Client:
    """A real gspread client (plain HTTPClient, no auth) talking to the emulator."""
    return gspread.Client(auth=None, session=RedirectSession(base_url))  # type: ignore[arg-type]
