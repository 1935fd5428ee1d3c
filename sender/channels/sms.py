"""SMS adapter for Brevo's transactional SMS API (`POST /v3/transactionalSMS/send`).

Sends `message.text` as a transactional SMS (no STOP mention needed), with `unicodeEnabled` when
the text needs UCS-2 (ê, â, ô, î, û, ç…), so accents arrive intact. The result carries the number
of billed parts computed by `sms_size`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from sender.channels.base import (
    BatchStopError,
    ChannelError,
    OutgoingMessage,
    RateLimited,
    RecipientError,
    RetryableError,
    SendResult,
    UncertainError,
)
from sender.channels.http import HttpChannel
from sender.channels.smslength import sms_size, stop_code
from sender.errors import ConfigurationError, parse_retry_after
from sender.text import mask_phone

log = logging.getLogger(__name__)

_SENDER_ALNUM = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
_SENDER_DIGITS = re.compile(r"^\d{1,15}$")
_RECIPIENT_WORDS = ("recipient", "phone", "number", "mobile", "destinataire", "numéro")
_RETRY_AFTER_HEADERS = ("Retry-After", "x-sib-ratelimit-reset")


def check_sender_name(sender_name: str) -> str:
    """Brevo accepts at most 11 letters/digits (no accents) or 15 digits."""
    name = (sender_name or "").strip()
    if _SENDER_ALNUM.match(name) or _SENDER_DIGITS.match(name):
        return name
    raise ConfigurationError(
        "SMS_EXPEDITEUR doit compter 11 caractères au plus (lettres sans accent et chiffres) "
        f"ou 15 chiffres au plus (reçu « {sender_name} »)."
    )


def classify_error(
    status: int, body: Any, *, sender_name: str = "", headers: Mapping[str, str] | None = None
) -> ChannelError:
    """Turn a non-2xx answer of the gateway into the right ChannelError subclass."""
    code = str(body.get("code", "")) if isinstance(body, dict) else ""
    text = str(body.get("message", "")) if isinstance(body, dict) else ""
    label = f"http_{status}" + (f"_{code}" if code else "")
    retry_after = parse_retry_after(headers or {}, _RETRY_AFTER_HEADERS)
    lowered = text.lower()
    if status in (401, 403):
        return BatchStopError(
            f"La clé d'API SMS est refusée par la passerelle (HTTP {status}) : vérifier la "
            "variable SMS_API_KEY et, chez Brevo, les adresses IP autorisées.",
            code=label,
        )
    if status == 402 or code == "not_enough_credits":
        return BatchStopError(
            "Le crédit SMS est épuisé (HTTP 402) : recharger le compte Brevo avant la prochaine "
            "diffusion.",
            code=label,
        )
    if status == 429:
        return RateLimited(
            "Trop d'envois SMS en peu de temps (HTTP 429) : l'envoi ralentit puis reprend.",
            code=label, retry_after=retry_after,
        )
    if status >= 500:
        return RetryableError(
            f"La passerelle SMS a répondu par une erreur {status} : nouvel essai.",
            code=label, retry_after=retry_after,
        )
    if status == 400 and "sender" in lowered:
        return BatchStopError(
            f"Le nom d'expéditeur SMS « {sender_name} » est refusé par la passerelle : vérifier "
            "la variable SMS_EXPEDITEUR.",
            code=label,
        )
    if status == 400 and any(word in lowered for word in _RECIPIENT_WORDS):
        return RecipientError(
            "Numéro refusé par la passerelle SMS (numéro invalide ou impossible à joindre "
            "par SMS).",
            code=label,
        )
    return RecipientError(f"La passerelle SMS a refusé ce message (HTTP {status}).", code=label)


class SmsChannel(HttpChannel):
    """Sends the plain text of an alert by SMS through Brevo."""

    name = "sms"
    service = "la passerelle SMS"

    def __init__(
        self,
        api_url: str,
        api_key: str,
        sender_name: str,
        *,
        sms_type: str = "transactional",
        **http_kwargs: Any,
    ) -> None:
        super().__init__(api_url, {"api-key": api_key, "accept": "application/json"}, **http_kwargs)
        self.sender_name = check_sender_name(sender_name)
        self.sms_type = sms_type

    def __repr__(self) -> str:  # never show the key
        return f"SmsChannel(url={self.url!r}, sender={self.sender_name!r})"

    def _send_once(self, message: OutgoingMessage) -> SendResult:
        text = message.text or ""
        if not text.strip():
            raise BatchStopError(
                "Le texte du SMS est vide : vérifier le modèle SMS dans l'onglet Modeles.",
                code="texte_vide",
            )
        mention = stop_code(text)
        if mention:
            raise BatchStopError(
                f"Le texte du SMS contient « {mention} » : une mention STOP fait traiter le SMS "
                "comme publicitaire (retenu la nuit et le dimanche). La retirer du modèle SMS.",
                code="mention_stop",
            )
        size = sms_size(text)
        payload = {
            "sender": self.sender_name,
            "recipient": message.numero.lstrip("+"),
            "content": text,
            "type": self.sms_type,
            "unicodeEnabled": size.encoding == "UCS-2",
            "tag": f"alerte-{message.alert_id}",
        }
        masked = mask_phone(message.numero)
        response, body = self._post(payload, masked)
        if 200 <= response.status < 300:
            message_id = body.get("messageId") if isinstance(body, dict) else None
            if message_id is None:
                log.warning("SMS : réponse sans identifiant pour %s", masked)
                raise UncertainError(
                    "La passerelle SMS a répondu sans identifiant de message : le SMS est "
                    "peut-être parti, il n'est pas renvoyé à l'aveugle.",
                    code="reponse_illisible",
                )
            log.debug("SMS : message accepté pour %s (%s)", masked, size.describe())
            return SendResult(channel=self.name, message_id=str(message_id),
                              segments=size.segments)
        error = classify_error(
            response.status, body, sender_name=self.sender_name, headers=response.headers
        )
        log.warning("SMS : échec pour %s (HTTP %s, %s)", masked, response.status,
                    error.scope.value)
        raise error
