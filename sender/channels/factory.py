"""Build the configured channel (and the SMS fallback) from Settings."""

from __future__ import annotations

from sender.channels.base import Channel, RetryPolicy
from sender.config import Settings
from sender.errors import ConfigurationError

CHANNEL_NAMES = ("outbox", "whatsapp", "sms")


def _http_kwargs(settings: Settings) -> dict:
    return {
        "rate_per_second": settings.rate_per_second,
        "timeout": settings.http_timeout,
        "retry": RetryPolicy(max_attempts=settings.max_attempts),
        "pool_size": max(64, settings.concurrency * 2),
    }


def _require(value: str | None, variable: str, what: str) -> str:
    if not value or not value.strip():
        raise ConfigurationError(
            f"{what} manque : définir la variable d'environnement {variable}."
        )
    return value.strip()


def _sms(settings: Settings) -> Channel:
    from sender.channels.sms import SmsChannel

    key = _require(settings.sms_api_key, "SMS_API_KEY", "La clé d'API de la passerelle SMS")
    return SmsChannel(settings.sms_api, key, settings.sms_sender, **_http_kwargs(settings))


def make_channel(name: str, settings: Settings) -> Channel:
    """The channel called `name` (outbox, whatsapp or sms), configured from `settings`."""
    kind = (name or "").strip().lower()
    if kind == "outbox":
        from sender.channels.outbox import OutboxChannel

        return OutboxChannel(settings.outbox)
    if kind == "whatsapp":
        from sender.channels.whatsapp import WhatsAppChannel

        token = _require(settings.whatsapp_token, "WHATSAPP_TOKEN", "Le jeton d'accès WhatsApp")
        phone_id = _require(
            settings.whatsapp_phone_id,
            "WHATSAPP_PHONE_NUMBER_ID",
            "L'identifiant du numéro expéditeur WhatsApp",
        )
        return WhatsAppChannel(settings.whatsapp_api, phone_id, token, **_http_kwargs(settings))
    if kind == "sms":
        return _sms(settings)
    raise ConfigurationError(
        f"Canal inconnu « {name} » : choisir outbox, whatsapp ou sms (variable ALERTE_CANAL)."
    )


def make_fallback_sms(settings: Settings) -> Channel | None:
    """The SMS channel used for members without WhatsApp, or None when SMS is not configured
    (no SMS_API_KEY) or turned off (ALERTE_SMS_SECOURS=non)."""
    if not settings.sms_api_key or not settings.sms_fallback:
        return None
    return _sms(settings)
