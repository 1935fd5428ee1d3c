"""Where the register's gspread client sends its requests: Google's Sheets API, or the address
of `GOOGLE_SHEETS_API_URL` (the local emulator in tests, a corporate egress proxy).

gspread has no base-URL option: a requests transport adapter mounted on Google's origin rewrites
each request's address to the configured base before it leaves. On a loopback address the
service-account key may be omitted (the emulator checks no credentials); anywhere else the key
is required, as for Google itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gspread
import requests
from requests.adapters import HTTPAdapter

from sender.config import GOOGLE_SHEETS_API, is_loopback
from sender.errors import ConfigurationError

SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"


class RebasedAdapter(HTTPAdapter):
    """Sends requests addressed to `origin` to `base` instead (same path and query)."""

    def __init__(self, base: str, origin: str = GOOGLE_SHEETS_API) -> None:
        super().__init__()
        self.base = base.rstrip("/")
        self.origin = origin.rstrip("/")

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
             ) -> requests.Response:
        url = request.url or ""
        if url.lower().startswith(self.origin.lower()):
            request.url = self.base + url[len(self.origin):]
        return super().send(request, *args, **kwargs)


# gspread reads a spreadsheet's sharing (`list_permissions`, used by `diagnostic`) from Drive.
GOOGLE_DRIVE_API = "https://www.googleapis.com"


def rebase(session: requests.Session, api_url: str) -> requests.Session:
    """Mount the rewrite on `session` unless `api_url` is Google's own address: Sheets and
    Drive requests both go to `api_url` (the emulator answers both; a proxy forwards both)."""
    if api_url.rstrip("/").lower() != GOOGLE_SHEETS_API:
        for origin in (GOOGLE_SHEETS_API, GOOGLE_DRIVE_API):
            session.mount(origin, RebasedAdapter(api_url, origin))
    return session


def _credentials(path: str, scopes: Sequence[str] = (SHEETS_SCOPE,)) -> Any:
    from google.oauth2.service_account import Credentials

    try:
        return Credentials.from_service_account_file(path, scopes=list(scopes))
    except FileNotFoundError as exc:
        raise ConfigurationError(
            f"Fichier du compte de service introuvable : {path} "
            "(GOOGLE_APPLICATION_CREDENTIALS)."
        ) from exc
    except (ValueError, KeyError, OSError) as exc:
        raise ConfigurationError(
            f"Le fichier {path} n'est pas une clé de compte de service Google "
            "valide (fichier JSON téléchargé depuis la console Google Cloud)."
        ) from exc


def sheets_client(credentials_path: str | None, api_url: str = GOOGLE_SHEETS_API,
                  scopes: Sequence[str] = (SHEETS_SCOPE,)) -> gspread.Client:
    """A gspread client sending its requests to `api_url`, authorised by the service-account
    key at `credentials_path` (which only a loopback `api_url` may go without) for `scopes`."""
    if credentials_path:
        from google.auth.transport.requests import AuthorizedSession

        credentials = _credentials(credentials_path, scopes)
        session: requests.Session = AuthorizedSession(credentials)
    elif is_loopback(api_url):
        credentials, session = None, requests.Session()
    else:
        raise ConfigurationError(
            "Le registre est une feuille Google : indiquez le fichier du compte de service "
            "dans GOOGLE_APPLICATION_CREDENTIALS (chemin hors du dépôt)."
        )
    return gspread.Client(auth=credentials, session=rebase(session, api_url))  # type: ignore[arg-type]
