"""The `Host` check: with ALERTE_SITE_URL, only that host name (or the machine itself) is served.

A request whose `Host` names another site (a DNS name pointed at this server by someone else,
a scanner's guess) gets `421 Misdirected Request` and nothing else: no page of the network is
served under a name that is not the CMA's. `localhost`, `127.0.0.1` and `::1` stay allowed for
local use and for the reverse proxy's health checks; the port does not count. Behind a reverse
proxy, the proxy must pass the client's `Host` on (docs/production.md). A request without
`Host` (HTTP/1.0) names no other site and is served.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from sender.intake.refusals import RefusalLog
from sender.intake.responses import Response, message_response

log = logging.getLogger(__name__)

LOCAL_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "::1"})


def host_name(header: str) -> str:
    """The host name of a `Host` header, in lower case, without port nor brackets."""
    text = header.strip().lower().rstrip(".")
    if text.startswith("["):
        return text[1:text.find("]")] if "]" in text else text
    if text.count(":") == 1:
        text = text.split(":", 1)[0]
    return text.rstrip(".")


class HostCheck:
    """Which `Host` headers the application answers; refusals are logged once a minute."""

    def __init__(self, site_url: str | None, *, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        site = (urlsplit(site_url).hostname or "") if site_url else ""
        self.allowed = frozenset({site.lower(), *LOCAL_HOSTS}) if site else None
        self.log = RefusalLog(log, "Requêtes pour un autre nom d'hôte (421)", clock=clock,
                              level=logging.INFO)

    def allows(self, environ: Mapping[str, Any]) -> bool:
        if self.allowed is None:
            return True
        header = str(environ.get("HTTP_HOST", "") or "")
        if not header.strip() or host_name(header) in self.allowed:
            return True
        self.log.refused("nom d'hôte inconnu")
        return False

    def refusal(self, site_dir: Path) -> Response:
        return message_response(
            site_dir, 421, "Adresse inconnue",
            ["Ce serveur ne répond pas sous ce nom. Utilisez l’adresse du site du réseau."],
        )
