"""Checks of the SMS gateway (Brevo): the key (`GET /v3/account`), the SMS credits against a
month of expected use, the sender name."""

from __future__ import annotations

import re

from sender.config import Settings
from sender.diagnostic.probe import Probe, ProbeError
from sender.diagnostic.report import Line, fail, local, ok, warn

T_ACCOUNT = "SMS : clé et crédits Brevo"
T_SENDER = "SMS : nom d'expéditeur"
SERVICE = "Brevo"
# A month of expected use: 4 alerts a month to each active member when SMS is the channel;
# as WhatsApp's fallback, a tenth of them (members without WhatsApp).
ALERTS_PER_MONTH = 4
FALLBACK_SHARE = 0.1
_ALPHANUMERIC = re.compile(r"^[A-Za-z0-9]{1,11}$")
_DIGITS = re.compile(r"^\d{1,15}$")


def in_use(settings: Settings) -> bool:
    return settings.channel == "sms" or (
        settings.channel == "whatsapp" and settings.sms_fallback and bool(settings.sms_api_key))


def account_url(settings: Settings) -> str:
    """`…/v3/account` beside the configured send address."""
    base = settings.sms_api.split("/transactionalSMS")[0].rstrip("/")
    return f"{base}/account"


def monthly_need(settings: Settings, active_members: int) -> int:
    sends = active_members * ALERTS_PER_MONTH
    return round(sends if settings.channel == "sms" else sends * FALLBACK_SHARE)


def account(settings: Settings, probe: Probe, active_members: int) -> Line:
    if not in_use(settings):
        return local(T_ACCOUNT, "SMS non utilisé")
    if not settings.sms_api_key:
        return fail(T_ACCOUNT, "SMS_API_KEY n'est pas défini", "créer une clé API Brevo (SMTP "
                    "et API → Clés API) et la mettre dans SMS_API_KEY")
    try:
        answer = probe.get(account_url(settings), SERVICE,
                           {"api-key": settings.sms_api_key, "accept": "application/json"})
    except ProbeError as exc:
        return fail(T_ACCOUNT, str(exc), "vérifier SMS_API_URL et le réseau")
    body = answer.json()
    if answer.status == 401:
        return fail(T_ACCOUNT, "clé refusée par Brevo (401)", "vérifier SMS_API_KEY")
    if answer.status != 200 or not isinstance(body, dict):
        return fail(T_ACCOUNT, f"réponse inattendue de Brevo (HTTP {answer.status})",
                    "vérifier SMS_API_URL")
    credits = sum(float(p.get("credits") or 0) for p in body.get("plan", [])
                  if isinstance(p, dict) and p.get("type") == "sms")
    need = monthly_need(settings, active_members)
    detail = f"clé acceptée, {credits:g} crédits SMS ; un mois d'usage estimé : {need}"
    if credits <= 0:
        return (fail if settings.channel == "sms" else warn)(
            T_ACCOUNT, detail, "acheter des crédits SMS dans Brevo")
    if credits < need:
        return warn(T_ACCOUNT, detail, "acheter des crédits SMS avant qu'ils manquent")
    return ok(T_ACCOUNT, detail)


def sender_name(settings: Settings) -> Line:
    if not in_use(settings):
        return local(T_SENDER, "SMS non utilisé")
    name = settings.sms_sender
    if (_ALPHANUMERIC.match(name) and not name.isdigit()) or _DIGITS.match(name):
        return ok(T_SENDER, f"« {name} »")
    return fail(T_SENDER, f"« {name} » refusé par Brevo",
                "SMS_EXPEDITEUR : 11 lettres ou chiffres au plus, sans espace ni accent")
