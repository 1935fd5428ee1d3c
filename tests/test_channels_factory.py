"""make_channel / make_fallback_sms / ConfiguredChannels: the right adapter, French messages for
missing settings, and what only WhatsApp has (SMS fallback, daily limit)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sender.channels.factory import ConfiguredChannels, make_channel, make_fallback_sms
from sender.channels.outbox import OutboxChannel
from sender.channels.sms import SmsChannel
from sender.channels.whatsapp import WhatsAppChannel
from sender.config import Settings
from sender.errors import ConfigurationError


def test_outbox_is_built_from_settings(tmp_path):
    channel = make_channel("outbox", Settings(outbox=tmp_path / "o.jsonl"))
    assert isinstance(channel, OutboxChannel)
    assert channel.path == Path(tmp_path / "o.jsonl")


def test_whatsapp_gets_the_settings():
    settings = Settings(whatsapp_token="tok", whatsapp_phone_id="123",
                        whatsapp_api="http://127.0.0.1:9/v21.0", http_timeout=3.5,
                        max_attempts=7, rate_per_second=20)
    channel = make_channel("WhatsApp", settings)
    assert isinstance(channel, WhatsAppChannel)
    assert channel.url == "http://127.0.0.1:9/v21.0/123/messages"
    assert channel.timeout == 3.5
    assert channel.retry.max_attempts == 7
    assert channel.bucket.max_rate == 20
    assert "tok" not in repr(channel)
    channel.close()


@pytest.mark.parametrize(
    ("settings", "variable"),
    [
        (Settings(whatsapp_phone_id="123"), "WHATSAPP_TOKEN"),
        (Settings(whatsapp_token="tok"), "WHATSAPP_PHONE_NUMBER_ID"),
    ],
)
def test_missing_whatsapp_settings_name_the_variable(settings, variable):
    with pytest.raises(ConfigurationError) as caught:
        make_channel("whatsapp", settings)
    assert variable in caught.value.message
    assert "manque" in caught.value.message


def test_sms_channel_needs_a_key():
    with pytest.raises(ConfigurationError) as caught:
        make_channel("sms", Settings())
    assert "SMS_API_KEY" in caught.value.message
    channel = make_channel("sms", Settings(sms_api_key="k", sms_sender="Lozere48"))
    assert isinstance(channel, SmsChannel) and channel.sender_name == "Lozere48"


def test_unknown_channel_is_refused():
    with pytest.raises(ConfigurationError) as caught:
        make_channel("pigeon", Settings())
    assert "Canal inconnu « pigeon »" in caught.value.message


def test_fallback_sms_only_when_configured():
    assert make_fallback_sms(Settings()) is None
    assert make_fallback_sms(Settings(sms_api_key="k", sms_fallback=False)) is None
    assert isinstance(make_fallback_sms(Settings(sms_api_key="k")), SmsChannel)


def test_invalid_sender_name_is_a_configuration_error():
    with pytest.raises(ConfigurationError) as caught:
        make_fallback_sms(Settings(sms_api_key="k", sms_sender="Alerte Lozère 48"))
    assert "SMS_EXPEDITEUR" in caught.value.message


def test_only_whatsapp_has_an_sms_fallback_and_a_daily_limit():
    sms = ConfiguredChannels(Settings(channel="sms", sms_api_key="k", daily_limit=7))
    assert sms.fallback is None and sms.daily_limit is None
    assert sms.names() == ("sms",)
    whatsapp = Settings(channel="whatsapp", whatsapp_token="tok", whatsapp_phone_id="123",
                        sms_api_key="k", daily_limit=7)
    channels = ConfiguredChannels(whatsapp)
    assert isinstance(channels.fallback, SmsChannel) and channels.daily_limit == 7
    assert channels.names() == ("whatsapp", "sms")
    assert ConfiguredChannels(replace(whatsapp, sms_fallback=False)).names() == ("whatsapp",)
    channels.close()


def test_channels_are_built_only_when_used():
    channels = ConfiguredChannels(Settings(channel="whatsapp"))  # no token: `verifier` still works
    with pytest.raises(ConfigurationError, match="WHATSAPP_TOKEN"):
        _ = channels.primary
    channels.close()
