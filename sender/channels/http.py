"""What the HTTP channels (WhatsApp, SMS) share: a pooled session and one POST attempt whose
network failures become retryable errors with a French message."""

from __future__ import annotations

import logging
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from sender.channels.base import Channel, RetryableError

log = logging.getLogger(__name__)


def pooled_session(pool_size: int) -> requests.Session:
    """A session whose connection pool matches the dispatcher's concurrency; no urllib3
    retries (the channel's own policy decides)."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class HttpChannel(Channel):
    """A channel that POSTs JSON to one URL. `service` names the provider in French messages."""

    service = "le service"

    def __init__(
        self,
        url: str,
        headers: dict[str, str],
        *,
        pool_size: int = 64,
        session: requests.Session | None = None,
        **base_kwargs: Any,
    ) -> None:
        super().__init__(**base_kwargs)
        self.url = url
        self._headers = headers
        self.session = session or pooled_session(pool_size)

    def _post(self, payload: dict[str, Any], masked: str) -> tuple[requests.Response, Any]:
        """One POST; returns the response and its JSON body (None when not JSON)."""
        try:
            response = self.session.post(
                self.url, json=payload, headers=self._headers, timeout=self.timeout
            )
        except requests.Timeout as exc:
            log.warning("%s : pas de réponse pour %s (%s)", self.name, masked, type(exc).__name__)
            raise RetryableError(
                f"{self.service.capitalize()} n'a pas répondu dans les {self.timeout:g} "
                "secondes : nouvel essai.",
                code="timeout",
            ) from None
        except requests.RequestException as exc:
            log.warning(
                "%s : connexion interrompue pour %s (%s)", self.name, masked, type(exc).__name__
            )
            raise RetryableError(
                f"La connexion à {self.service} a échoué ou a été coupée : nouvel essai.",
                code="connexion",
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        return response, body

    def close(self) -> None:
        self.session.close()
