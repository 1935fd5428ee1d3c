"""Meta's WhatsApp webhook at `/webhooks/whatsapp`, served next to the site.

- `GET`: the subscription handshake (`hub.mode=subscribe`, `hub.verify_token` equal to
  `WHATSAPP_VERIFY_TOKEN`): answers `hub.challenge`, else `403`.
- `POST`: accepted only with a valid `X-Hub-Signature-256` (HMAC-SHA256 of the raw body with
  `WHATSAPP_APP_SECRET`), else `403` and nothing is stored. The events are stored in the
  journal file (`delivery/store.py`) before the `200`; when the journal cannot be written the
  answer is `503` and Meta sends the events again later. A signed payload that cannot be read
  (not JSON, nested too deep, fields of the wrong types, numbers too long) gets `400` and
  nothing is stored.
- Refusals (`403`, `400`, `413`) are logged as one summary line per minute with counts by
  reason (`refusals.py`), never one line per request.

Answers are short plain text: Meta reads only the status.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import parse_qsl

from sender.delivery.account import parse_account, save_account
from sender.delivery.payload import UnreadablePayload, parse
from sender.delivery.signature import handshake, valid_signature
from sender.delivery.store import DeliveryStore
from sender.errors import AlerteError
from sender.intake.refusals import RefusalLog
from sender.intake.responses import Response

log = logging.getLogger(__name__)

PATH: Final = "/webhooks/whatsapp"
MAX_BODY: Final = 1024 * 1024  # Meta's payloads are a few kB; waitress refuses above 1 MB
TEXT: Final = "text/plain; charset=utf-8"


def _text(status: int, body: str) -> Response:
    return Response(status, body.encode("utf-8"), TEXT)


class WebhookEndpoint:
    """The webhook's two methods; the store is opened on the first valid POST."""

    def __init__(
        self,
        store: Callable[[], DeliveryStore] | DeliveryStore,
        *,
        verify_token: str | None,
        app_secret: str | None,
    ) -> None:
        self._store = store if isinstance(store, DeliveryStore) else None
        self._factory = None if isinstance(store, DeliveryStore) else store
        self._lock = threading.Lock()
        self.verify_token = verify_token
        self.app_secret = app_secret
        self.refusals = RefusalLog(log, "Webhook WhatsApp : requêtes")
        self.orphans = RefusalLog(log, "Webhook WhatsApp : statuts", level=logging.INFO,
                                  outcome="ignorés")

    def store(self) -> DeliveryStore:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    assert self._factory is not None
                    self._store = self._factory()
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    def handle(self, environ: Mapping[str, Any], method: str) -> Response:
        if method in ("GET", "HEAD"):
            return self.get(environ)
        if method == "POST":
            return self.post(environ)
        response = _text(405, "Méthode non prise en charge.")
        response.headers = [("Allow", "GET, POST")]
        return response

    def get(self, environ: Mapping[str, Any]) -> Response:
        query = dict(parse_qsl(str(environ.get("QUERY_STRING", "") or ""), max_num_fields=20))
        challenge = handshake(query, self.verify_token)
        if challenge is None:
            if not self.verify_token:
                log.warning("Webhook WhatsApp : WHATSAPP_VERIFY_TOKEN n'est pas défini.")
            return _text(403, "Jeton de vérification refusé.")
        return _text(200, challenge)

    def post(self, environ: Mapping[str, Any]) -> Response:
        body = _read(environ)
        if body is None:
            self.refusals.refused("trop volumineuses")
            return _text(413, "Requête trop volumineuse.")
        signature = str(environ.get("HTTP_X_HUB_SIGNATURE_256", "") or "")
        if not valid_signature(body, signature, self.app_secret):
            self.refusals.refused(
                "signature absente ou fausse" if self.app_secret
                else "WHATSAPP_APP_SECRET non défini"
            )
            return _text(403, "Signature refusée.")
        try:
            payload = json.loads(body.decode("utf-8"))
            events = parse(payload)
            account = parse_account(payload)
        except (UnicodeDecodeError, UnreadablePayload, ValueError, RecursionError,
                OverflowError):
            self.refusals.refused("contenu signé illisible")
            return _text(400, "Contenu illisible.")
        for template in events.templates:
            log.warning(
                "Modèle WhatsApp « %s » : %s%s", template.name, template.event,
                f" ({template.reason})" if template.reason else "",
            )
        try:
            report = self.store().save(events)
            save_account(self.store(), account)
        except AlerteError as error:
            log.error("Webhook WhatsApp : événements non enregistrés : %s", error.message)
            return _text(503, "Enregistrement impossible pour l'instant.")
        if report.limited:
            log.info("Webhook WhatsApp : %d message(s) ignoré(s) (trop de messages d'un même "
                     "numéro en une heure).", report.limited)
        if report.orphans:
            self.orphans.refused("sans envoi connu dans le journal", report.orphans)
        return _text(200, "EVENT_RECEIVED")


def _read(environ: Mapping[str, Any]) -> bytes | None:
    declared = str(environ.get("CONTENT_LENGTH", "") or "").strip()
    if declared and declared.isdigit() and int(declared) > MAX_BODY:
        return None
    try:
        length = int(declared) if declared.isdigit() else MAX_BODY + 1
        body = environ["wsgi.input"].read(min(length, MAX_BODY + 1))
    except (KeyError, OSError, ValueError):
        return b""
    if not isinstance(body, bytes) or len(body) > MAX_BODY:
        return None
    return body
