"""Bounded retry of Google Sheets API calls, and translation of failures into French
`RegisterUnavailable` (transient: quota, 5xx, network) or `RegisterError` (refused) errors.

Pauses between attempts follow the shared `RetryPolicy` (backoff with jitter, `Retry-After` as a
floor). A call marked non-idempotent is not retried after an ambiguous failure (timeout or cut
connection once the request may have been sent): `Ambiguous` is raised for the caller to check
what landed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import requests
from gspread.exceptions import APIError

from sender.errors import RegisterError, RegisterUnavailable, RetryPolicy, parse_retry_after

try:  # google-auth is a gspread dependency; its errors appear when the token is refreshed.
    from google.auth.exceptions import RefreshError, TransportError
except ImportError:  # pragma: no cover
    RefreshError = TransportError = ()  # type: ignore[assignment,misc]

T = TypeVar("T")

RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class Ambiguous(Exception):
    """A request may or may not have been applied (timeout or cut connection after sending)."""


class Refused(RegisterError):
    """Google answered with a non-retryable client error."""

    def __init__(self, message: str, status: int, api_message: str) -> None:
        super().__init__(message)
        self.status = status
        self.api_message = api_message


def never_sent(exc: Exception) -> bool:
    """True when a connection error happened before the request reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc)
    return "NewConnectionError" in text or "Failed to establish" in text


class Retrier:
    """Runs API calls for one spreadsheet with bounded retries."""

    def __init__(
        self,
        key: str,
        http: Any,
        policy: RetryPolicy,
        sleep: Callable[[float], None],
    ) -> None:
        self.key = key
        self.http = http
        self.policy = policy
        self.sleep = sleep

    def _account(self) -> str:
        email = getattr(getattr(self.http, "auth", None), "service_account_email", None)
        return f" ({email})" if isinstance(email, str) and "@" in email else ""

    def refused(self, exc: APIError) -> Refused:
        status = exc.response.status_code
        api_message = str(exc.error.get("message", "")) if isinstance(exc.error, Mapping) else ""
        if status in (401, 403):
            message = (
                f"Accès refusé à la feuille Google {self.key} : partagez-la en tant "
                f"qu'éditeur avec l'adresse du compte de service{self._account()}."
            )
        elif status == 404:
            message = (
                f"Feuille Google introuvable : {self.key}. Vérifiez l'adresse ou la clé "
                "indiquée dans ALERTE_REGISTRE."
            )
        else:
            message = f"Google Sheets a refusé la requête (erreur {status}) : {api_message}"
        return Refused(message, status, api_message)

    def call(self, fn: Callable[..., T], *args: Any, idempotent: bool = True) -> T:
        """Run one API call with bounded retries; raise French `RegisterError`s."""
        reason = ""
        for attempt in range(1, self.policy.max_attempts + 1):
            response = None
            try:
                return fn(*args)
            except APIError as exc:
                response = exc.response
                status = response.status_code
                if status not in RETRY_STATUS:
                    raise self.refused(exc) from exc
                reason = (
                    "refuse les requêtes (quota dépassé)" if status == 429
                    else f"est indisponible (erreur {status})"
                )
            except RefreshError as exc:
                raise RegisterError(
                    "Google a refusé les identifiants du compte de service : vérifiez le "
                    "fichier indiqué dans GOOGLE_APPLICATION_CREDENTIALS."
                ) from exc
            except requests.ConnectTimeout:
                reason = "ne répond pas (connexion impossible)"
            except (requests.Timeout, requests.ConnectionError,
                    requests.exceptions.ChunkedEncodingError) as exc:
                if not idempotent and not never_sent(exc):
                    raise Ambiguous() from exc
                reason = "ne répond pas (délai dépassé ou connexion coupée)"
            except TransportError:
                reason = "ne répond pas (connexion impossible)"
            if attempt < self.policy.max_attempts:
                retry_after = parse_retry_after(response.headers) if response is not None else None
                self.sleep(self.policy.delay(attempt, retry_after))
        raise RegisterUnavailable(
            f"Google Sheets {reason} après {self.policy.max_attempts} tentatives ; nouvel essai au "
            "prochain passage."
        )
