"""WhatsApp Cloud API adapter: one approved template message per member, and short free-form
replies (acknowledgements) within the 24-hour window a member's own message opens.

`POST {api_base}/{phone-number-id}/messages` with a bearer token. Every message carries the
`biz_opaque_callback_data` the dispatcher gives it, echoed by the status webhooks. Errors are
classified as in docs/architecture.md: retry (throughput, pair rate, maintenance, 5xx, network),
give up for this member (not on WhatsApp → SMS fallback, opted out…), suspect (an error that,
repeated, means a wrong setting: the dispatcher's circuit breaker stops on it) or stop the whole
batch (token, account, template).
Every error carries a French sentence for the officer; logs never show the token nor a full number.
"""

from __future__ import annotations

import logging
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
from sender.config import WHATSAPP_API
from sender.domain.phones import whatsapp_recipient
from sender.errors import parse_retry_after
from sender.text import mask_phone, one_line

log = logging.getLogger(__name__)

MAX_PARAMETER_LENGTH = 1024
EMPTY_PARAMETER = "-"


def clean_parameter(value: object) -> str:
    """Make a value acceptable as a template body parameter.

    The API refuses line breaks, tabs, runs of more than four spaces and empty parameters: every
    run of white space becomes one space, the result is cut to 1024 characters (ending with
    « … ») and an empty value becomes « - ».
    """
    text = one_line("" if value is None else str(value))
    if len(text) > MAX_PARAMETER_LENGTH:
        text = text[: MAX_PARAMETER_LENGTH - 1].rstrip() + "…"
    return text or EMPTY_PARAMETER


def build_payload(message: OutgoingMessage) -> dict[str, Any]:
    """The JSON body of a template message with named body parameters."""
    if not message.template:
        raise BatchStopError(
            "Aucun modèle WhatsApp n'est indiqué pour ce message : renseigner la colonne "
            "« modele_whatsapp » de l'onglet Modeles.",
            code="modele_absent",
        )
    template: dict[str, Any] = {"name": message.template, "language": {"code": message.language}}
    components: list[dict[str, Any]] = []
    if message.parameters:
        components.append(
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "parameter_name": name, "text": clean_parameter(value)}
                    for name, value in message.parameters.items()
                ],
            }
        )
    if message.button_payload:
        # The template's first button is a quick reply: tapping it sends this payload back
        # through the webhook (a confirmation token).
        components.append(
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": message.button_payload}],
            }
        )
    if components:
        template["components"] = components
    payload: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": whatsapp_recipient(message.numero),
        "type": "template",
        "template": template,
    }
    if message.callback:
        payload["biz_opaque_callback_data"] = message.callback
    return payload


def build_text_payload(numero: str, text: str) -> dict[str, Any]:
    """A free-form text message (allowed only within 24 h of the member's last message)."""
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": whatsapp_recipient(numero),
        "type": "text",
        "text": {"preview_url": False, "body": text},
    }


# -- error classification ------------------------------------------------------------------

_RETRY = {
    130429: "Le débit maximal de WhatsApp est atteint (code 130429) : l'envoi ralentit puis "
    "reprend.",
    4: "Trop d'appels à l'API WhatsApp (code 4) : l'envoi ralentit puis reprend.",
    80007: "Le compte WhatsApp Business a atteint sa limite d'appels (code 80007) : l'envoi "
    "ralentit puis reprend.",
    131056: "Trop de messages envoyés à ce même numéro en peu de temps (code 131056) : nouvel "
    "essai un peu plus tard.",
    131057: "Le compte WhatsApp Business est en maintenance (code 131057) : nouvel essai un peu "
    "plus tard.",
    131000: "Erreur inconnue chez WhatsApp (code 131000) : nouvel essai.",
    131016: "Le service WhatsApp est momentanément surchargé (code 131016) : nouvel essai.",
    1: "Erreur inconnue de l'API WhatsApp (code 1) : nouvel essai.",
    2: "Le service WhatsApp est momentanément indisponible (code 2) : nouvel essai.",
}
_RATE_CODES = {130429, 4, 80007}

_BATCH = {
    190: "Le jeton d'accès WhatsApp est refusé (code 190) : l'administrateur doit le "
    "renouveler.",
    10: "L'application WhatsApp n'a pas la permission d'envoyer des messages (code 10) : "
    "l'administrateur doit vérifier ses autorisations.",
    200: "L'application WhatsApp n'a pas la permission d'envoyer des messages (code 200) : "
    "l'administrateur doit vérifier ses autorisations.",
    3: "L'application WhatsApp n'a pas accès à cette fonction (code 3) : l'administrateur doit "
    "vérifier sa configuration.",
    131005: "L'accès à l'API WhatsApp est refusé (code 131005) : l'administrateur doit vérifier "
    "les autorisations du jeton.",
    368: "Le compte WhatsApp est temporairement bloqué par Meta pour non-respect de ses règles "
    "(code 368) : diffusion arrêtée.",
    131031: "Le compte WhatsApp Business est verrouillé (code 131031) : diffusion arrêtée, "
    "l'administrateur doit contacter Meta.",
    131048: "Trop de messages précédents ont été bloqués ou signalés comme indésirables : Meta "
    "limite les envois (code 131048). Diffusion arrêtée.",
    131042: "Problème de paiement sur le compte WhatsApp Business (code 131042) : "
    "l'administrateur doit régulariser le moyen de paiement.",
    131045: "Le numéro expéditeur WhatsApp a un problème de certificat d'enregistrement "
    "(code 131045) : l'administrateur doit le réenregistrer.",
    133010: "Le numéro expéditeur n'est pas enregistré sur WhatsApp (code 133010) : "
    "l'administrateur doit l'enregistrer.",
    131008: "Il manque un paramètre obligatoire dans la demande envoyée à WhatsApp "
    "(code 131008) : le modèle ou le texte de l'alerte est incomplet.",
    33: "Le numéro expéditeur WhatsApp n'existe plus ou l'identifiant est faux (code 33) : "
    "vérifier la variable WHATSAPP_PHONE_NUMBER_ID.",
    131037: "Le nom affiché du numéro expéditeur WhatsApp n'est pas encore approuvé par Meta "
    "(code 131037) : l'administrateur doit le faire approuver dans le gestionnaire WhatsApp.",
    131063: "WhatsApp refuse les envois de ce compte (code 131063) : l'administrateur doit "
    "vérifier l'état du compte et du numéro expéditeur dans le gestionnaire WhatsApp.",
    131064: "WhatsApp refuse les envois de ce compte (code 131064) : l'administrateur doit "
    "vérifier l'état du compte et du numéro expéditeur dans le gestionnaire WhatsApp.",
    130497: "Le compte WhatsApp Business n'a pas le droit d'écrire aux numéros de ce pays "
    "(code 130497) : diffusion arrêtée, l'administrateur doit contacter Meta.",
}
# Template problems: the same failure would repeat for every member, so the batch stops.
_TEMPLATE = {
    132000: "Le nombre de paramètres ne correspond pas au modèle WhatsApp « {t} » "
    "(code 132000) : corriger le modèle dans l'onglet Modeles.",
    132001: "Le modèle WhatsApp « {t} » n'existe pas dans cette langue ou n'est pas encore "
    "approuvé (code 132001).",
    132005: "Le texte du modèle WhatsApp « {t} » est trop long une fois complété (code 132005) : "
    "raccourcir la description de l'alerte.",
    132007: "Le contenu du modèle WhatsApp « {t} » enfreint les règles de Meta (code 132007).",
    132012: "Un paramètre n'a pas le format attendu par le modèle WhatsApp « {t} » "
    "(code 132012).",
    132015: "Le modèle WhatsApp « {t} » est suspendu par Meta pour mauvaise qualité "
    "(code 132015) : en faire approuver un autre.",
    132016: "Le modèle WhatsApp « {t} » est désactivé par Meta (code 132016) : en faire "
    "approuver un autre.",
    132018: "Un paramètre du modèle WhatsApp « {t} » contient un retour à la ligne, une "
    "tabulation ou trop d'espaces (code 132018).",
    132008: "Les paramètres envoyés ne correspondent pas au modèle WhatsApp « {t} » "
    "(code 132008) : corriger les noms de paramètres dans l'onglet Modeles.",
}
_RECIPIENT = {
    131026: "Ce numéro n'a pas WhatsApp, ou son application est trop ancienne (code 131026).",
    131050: "Ce destinataire a choisi de ne plus recevoir de messages d'entreprise sur WhatsApp "
    "(code 131050).",
    131047: "WhatsApp refuse ce message : plus de 24 heures depuis la dernière réponse du "
    "destinataire et pas de modèle approuvé (code 131047).",
    131049: "Meta a choisi de ne pas remettre ce message à ce destinataire (code 131049).",
    131021: "Le destinataire est le numéro expéditeur lui-même (code 131021).",
    131030: "Ce numéro n'est pas dans la liste des destinataires autorisés du compte de test "
    "WhatsApp (code 131030).",
    130472: "Ce numéro fait partie d'une expérimentation de Meta : message non remis "
    "(code 130472).",
}
RECIPIENT_CODES = frozenset(_RECIPIENT)
# Refusals about the member that an SMS may get round (the SMS fallback is tried).
SMS_CODES = frozenset({131026, 131049, 130472, 131050})
SMS_CODE_TEXTS = tuple(sorted(str(c) for c in SMS_CODES))  # as the journal stores error codes

# The same parameters go to every member: these errors, repeated, point at a setting. Each has
# the per-message text and the likely cause for the officer once the circuit breaker trips.
_SUSPECT = {
    100: (
        "WhatsApp refuse un paramètre de ce message (code 100).",
        "WhatsApp refuse un paramètre de chaque message (code 100) : vérifier "
        "WHATSAPP_PHONE_NUMBER_ID et, dans l'onglet Modeles, que les paramètres portent les noms "
        "du modèle approuvé par Meta.",
    ),
    135000: (
        "Erreur générique de WhatsApp pour ce message (code 135000).",
        "WhatsApp renvoie une erreur générique pour chaque message (code 135000) : le plus "
        "souvent, les paramètres de l'onglet Modeles ne correspondent pas au modèle approuvé.",
    ),
    131009: (
        "WhatsApp refuse une valeur de ce message (code 131009).",
        "WhatsApp refuse une valeur de chaque message (code 131009) : vérifier les paramètres du "
        "modèle dans l'onglet Modeles.",
    ),
    131051: (
        "WhatsApp ne prend pas en charge ce type de message (code 131051).",
        "WhatsApp refuse le type de chaque message (code 131051) : vérifier le modèle dans "
        "l'onglet Modeles.",
    ),
}


def _suspect_http(status: int) -> str:
    if status == 404:
        return (
            "l'adresse de l'API WhatsApp semble fausse (HTTP 404 pour chaque message) : vérifier "
            f"WHATSAPP_API_URL, de la forme {WHATSAPP_API}."
        )
    return (
        f"WhatsApp refuse chaque message sans code d'erreur (HTTP {status}) : vérifier "
        "WHATSAPP_API_URL et WHATSAPP_PHONE_NUMBER_ID."
    )


def classify_error(
    status: int,
    body: Any,
    *,
    template: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> ChannelError:
    """Turn a non-2xx answer of the Cloud API into the right ChannelError subclass."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    raw_code = error.get("code")
    code = raw_code if isinstance(raw_code, int) else None
    subcode = error.get("error_subcode")
    retry_after = parse_retry_after(headers or {})
    label = str(code) if code is not None else f"http_{status}"

    if code in _RETRY:
        kind = RateLimited if code in _RATE_CODES else RetryableError
        return kind(_RETRY[code], code=label, retry_after=retry_after)
    if code in _BATCH:
        return BatchStopError(_BATCH[code], code=label)
    if code in _TEMPLATE:
        return BatchStopError(_TEMPLATE[code].format(t=template or "?"), code=label)
    if code == 100 and subcode == 33:
        return BatchStopError(
            "L'identifiant du numéro expéditeur WhatsApp est inconnu de Meta (code 100) : "
            "vérifier la variable WHATSAPP_PHONE_NUMBER_ID.",
            code=label,
        )
    if code in _RECIPIENT:
        return RecipientError(_RECIPIENT[code], code=label, try_sms=code in SMS_CODES)
    if status == 429:
        return RateLimited(
            "WhatsApp demande de ralentir (HTTP 429) : l'envoi ralentit puis reprend.",
            code=label, retry_after=retry_after,
        )
    if status == 401:
        return BatchStopError(_BATCH[190].replace("code 190", "HTTP 401"), code=label)
    if status >= 500:
        return RetryableError(
            f"Le serveur WhatsApp a répondu par une erreur {status}"
            + (f" (code {code})" if code is not None else "")
            + " : nouvel essai.",
            code=label, retry_after=retry_after,
        )
    if code in _SUSPECT:
        text, cause = _SUSPECT[code]
        return RecipientError(text, code=label, final=False, suspect=cause)
    if code is None:
        return RecipientError(
            f"WhatsApp a refusé ce message (HTTP {status}).",
            code=label, final=False, suspect=_suspect_http(status),
        )
    return RecipientError(
        f"WhatsApp a refusé ce message (code {code}, HTTP {status}).",
        code=label,
        final=False,
        suspect=f"WhatsApp refuse chaque message avec une erreur inconnue (code {code}) : "
        "l'administrateur doit chercher ce code dans la liste des erreurs de Meta.",
    )


def status_error(code: object) -> ChannelError:
    """The error of a `failed` status webhook, classified like a synchronous answer."""
    number = code if isinstance(code, int) else None
    if number is None and isinstance(code, str) and code.isdigit():
        number = int(code)
    if number is None:
        return RecipientError(
            "WhatsApp signale que ce message n'a pas été remis (sans code d'erreur).",
            code="echec_sans_code", final=False,
        )
    return classify_error(400, {"error": {"code": number}})


class WhatsAppChannel(HttpChannel):
    """Sends approved template messages through the WhatsApp Cloud API."""

    name = "whatsapp"
    service = "WhatsApp"

    def __init__(
        self,
        api_base: str,
        phone_number_id: str,
        token: str,
        *,
        pool_size: int = 64,
        **base_kwargs: Any,
    ) -> None:
        super().__init__(
            f"{api_base.rstrip('/')}/{phone_number_id}/messages",
            {"Authorization": f"Bearer {token}"},
            pool_size=pool_size,
            **base_kwargs,
        )

    def __repr__(self) -> str:  # never show the token
        return f"WhatsAppChannel(url={self.url!r})"

    def _send_once(self, message: OutgoingMessage) -> SendResult:
        return self._post_message(
            build_payload(message), mask_phone(message.numero), message.template
        )

    def reply(self, numero: str, text: str) -> SendResult:
        """A free-form text to a member who wrote to us less than 24 h ago (acknowledgements);
        with the same throttling and retries as alert messages."""
        payload = build_text_payload(numero, text)
        masked = mask_phone(numero)
        return self.retrying(lambda: self._post_message(payload, masked, None))

    def _post_message(
        self, payload: dict[str, Any], masked: str, template: str | None
    ) -> SendResult:
        answer, body = self._post(payload, masked)
        if 200 <= answer.status < 300:
            return self._result(body, masked)
        error = classify_error(answer.status, body, template=template, headers=answer.headers)
        log.warning(
            "WhatsApp : échec pour %s (HTTP %s, code %s, %s)",
            masked, answer.status, error.code, error.scope.value,
        )
        raise error

    def _result(self, body: Any, masked: str) -> SendResult:
        try:
            message_id = str(body["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            log.warning("WhatsApp : réponse sans identifiant pour %s", masked)
            raise UncertainError(
                "WhatsApp a répondu sans identifiant de message : le message est peut-être "
                "parti, il n'est pas renvoyé à l'aveugle.",
                code="reponse_illisible",
            ) from None
        wa_id = None
        contacts = body.get("contacts") if isinstance(body, dict) else None
        if isinstance(contacts, list) and contacts and isinstance(contacts[0], dict):
            wa_id = contacts[0].get("wa_id")
        log.debug("WhatsApp : message accepté pour %s", masked)
        return SendResult(channel=self.name, message_id=message_id, wa_id=wa_id)
