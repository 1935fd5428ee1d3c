"""Checks of the public address: `/sante` answers through the proxy, and Meta's webhook
handshake succeeds with the verify token."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from sender.config import DEFAULT_SITE_URL, Settings
from sender.diagnostic.probe import Probe, ProbeError
from sender.diagnostic.report import Line, fail, local, ok, warn

T_HEALTH = "Site public : /sante"
T_HANDSHAKE = "Site public : vérification du webhook"
SERVICE = "le site public"


def _local(settings: Settings) -> bool:
    return settings.site_url == DEFAULT_SITE_URL


def health(settings: Settings, probe: Probe) -> Line:
    if _local(settings):
        return local(T_HEALTH, "pas d'adresse publique (ALERTE_SITE_URL non défini)")
    url = f"{settings.site_url}/sante"
    try:
        answer = probe.get(url, SERVICE)
    except ProbeError as exc:
        return fail(T_HEALTH, str(exc), "démarrer le service et le proxy (Caddy), vérifier "
                    "le DNS et le pare-feu (ports 80 et 443)")
    body = answer.json()
    if answer.status == 200 and isinstance(body, dict):
        return ok(T_HEALTH, f"{url} répond 200")
    if answer.status == 503 and isinstance(body, dict):
        return warn(T_HEALTH, f"{url} répond 503 : l'envoi ne tourne pas ou est en retard",
                    "démarrer « alerte-message surveiller » (ou demarrer) et lire ses journaux")
    return fail(T_HEALTH, f"{url} répond HTTP {answer.status}",
                "le proxy doit transmettre /sante à « alerte-message servir »")


def handshake(settings: Settings, probe: Probe) -> Line:
    if settings.channel != "whatsapp":
        return local(T_HANDSHAKE, "WhatsApp non utilisé")
    if not settings.whatsapp_verify_token:
        return fail(T_HANDSHAKE, "WHATSAPP_VERIFY_TOKEN n'est pas défini",
                    "choisir un jeton de vérification et le saisir aussi chez Meta")
    if _local(settings):
        return fail(T_HANDSHAKE, "pas d'adresse publique : Meta ne peut pas joindre le webhook",
                    "définir ALERTE_SITE_URL (HTTPS)")
    challenge = secrets.token_hex(8)
    query = urlencode({"hub.mode": "subscribe", "hub.verify_token":
                       settings.whatsapp_verify_token, "hub.challenge": challenge})
    url = f"{settings.site_url}/webhooks/whatsapp"
    try:
        answer = probe.get(f"{url}?{query}", SERVICE)
    except ProbeError as exc:
        return fail(T_HANDSHAKE, str(exc), "démarrer le service et le proxy")
    if answer.status == 200 and answer.body.decode("utf-8", "replace").strip() == challenge:
        return ok(T_HANDSHAKE, f"{url} renvoie le défi avec le jeton de vérification")
    return fail(T_HANDSHAKE, f"{url} répond HTTP {answer.status} sans le défi",
                "le proxy doit transmettre /webhooks/whatsapp à « servir », avec le même "
                "WHATSAPP_VERIFY_TOKEN")
