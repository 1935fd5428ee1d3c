"""Build the configured channels from Settings, and answer what depends on which one is chosen.

Only WhatsApp has an SMS fallback (for members without WhatsApp) and a daily limit (its
messaging tier: unique numbers per rolling 24 h); `ConfiguredChannels` is the one place that
knows it.
"""

from __future__ import annotations

from sender.channels.base import Channel, RetryPolicy
from sender.config import Settings
from sender.errors import ConfigurationError

PREVIEW_CHANNELS = ("whatsapp", "sms")  # each has its own message (outbox writes the SMS text)


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


class ConfiguredChannels:
    """The primary channel and its SMS fallback, each built on first use (`verifier` sends
    nothing and needs no token), closed together."""

    def __init__(self, settings: Settings, *, primary: Channel | None = None) -> None:
        self.settings = settings
        self._primary = primary
        self._fallback: Channel | None = None
        self._whatsapp = settings.channel == "whatsapp"

    @property
    def primary(self) -> Channel:
        if self._primary is None:
            self._primary = make_channel(self.settings.channel, self.settings)
        return self._primary

    @property
    def fallback(self) -> Channel | None:
        """The SMS channel for members WhatsApp cannot reach, when configured (WhatsApp only)."""
        if self._fallback is None and self._whatsapp:
            self._fallback = make_fallback_sms(self.settings)
        return self._fallback

    def names(self) -> tuple[str, ...]:
        """The channels a dispatch composes messages for: the primary one, and SMS if it has a
        fallback."""
        if self._whatsapp and self.fallback is not None:
            return ("whatsapp", "sms")
        return (self.settings.channel,)

    # Meta's messaging limit, when read (runner): used unless WHATSAPP_PLAFOND_JOURNALIER is
    # set; `meta_unlimited` for TIER_UNLIMITED.
    meta_limit: int | None = None
    meta_unlimited: bool = False

    @property
    def daily_limit(self) -> int | None:
        """Unique recipients per rolling 24 h on the primary channel, or None (no limit)."""
        if not self._whatsapp:
            return None
        if self.settings.daily_limit_from_meta:
            if self.meta_unlimited:
                return None
            if self.meta_limit is not None:
                return self.meta_limit
        return self.settings.daily_limit

    def close(self) -> None:
        for channel in (self._primary, self._fallback):
            if channel is not None:
                channel.close()
