"""SmsChannel against the local Brevo transactional SMS emulator."""

from __future__ import annotations

import logging

import pytest
import requests

from sender.channels.base import (
    BatchStopError,
    ChannelError,
    OutgoingMessage,
    RateLimited,
    RecipientError,
    RetryableError,
    RetryPolicy,
    Scope,
    UncertainError,
)
from sender.channels.sms import SmsChannel, check_sender_name, classify_error
from sender.channels.smslength import sms_size
from sender.errors import ConfigurationError
from support.emulators.smsgateway import SmsGatewayEmulator
from support.scenario import channel_options, deliver_concurrently, mobiles

KEY = "xkeysib-secret-key-never-logged-abcdef"
NUMERO = "+33612345678"
TEXT_GSM = "ALERTE vol a Mende, rue de l'Ange : 2 hommes, scooter noir. Appelez le 17."
TEXT_ACCENTS = (
    "Alerte : escroquerie à Marvejols, faux billets de 50 €. Soyez prudents, même en caisse."
)


def message(numero: str = NUMERO, text: str = TEXT_ACCENTS) -> OutgoingMessage:
    return OutgoingMessage(alert_id="A7", numero=numero, text=text)


@pytest.fixture
def gw():
    with SmsGatewayEmulator(api_key=KEY) as emulator:
        yield emulator


def channel_for(gw: SmsGatewayEmulator, sleeps: list[float] | None = None, **kwargs):
    options = channel_options(sleeps, **kwargs)
    return SmsChannel(gw.api_url, options.pop("key", KEY), options.pop("sender", "AlerteMsg"),
                      **options)


def test_sms_is_accepted_with_segments(gw, sleeps):
    result = channel_for(gw, sleeps).deliver(message())
    assert result.channel == "sms"
    assert result.message_id.isdigit()
    assert result.segments == sms_size(TEXT_ACCENTS).segments == 2
    (sms,) = gw.accepted
    assert sms.numero == "33612345678"
    assert sms.sender == "AlerteMsg"
    assert sms.content == TEXT_ACCENTS
    assert sms.unicode is True  # « à », « è » and « é » are fine in GSM-7 but « ê »… are not
    assert sms.sms_count == result.segments


def test_gsm_text_is_not_sent_as_unicode(gw, sleeps):
    result = channel_for(gw, sleeps).deliver(message(text=TEXT_GSM))
    assert result.segments == 1
    assert gw.accepted[0].unicode is False


def test_sender_name_is_checked_before_sending():
    assert check_sender_name("AlerteMsg") == "AlerteMsg"
    assert check_sender_name("33612345678") == "33612345678"
    for bad in ("", "AlerteCommerces48", "Alerte-48", "Lozère"):
        with pytest.raises(ConfigurationError) as caught:
            check_sender_name(bad)
        assert "SMS_EXPEDITEUR" in caught.value.message


def test_empty_text_stops_the_batch(gw, sleeps):
    with pytest.raises(BatchStopError):
        channel_for(gw, sleeps).deliver(message(text="  "))
    assert gw.requests_total == 0


# -- errors ----------------------------------------------------------------------------------


def test_wrong_key_stops_the_batch(gw, sleeps):
    with pytest.raises(BatchStopError) as caught:
        channel_for(gw, sleeps, key="wrong").deliver(message())
    assert "SMS_API_KEY" in caught.value.message
    assert "refusée" in caught.value.message
    assert gw.requests_total == 1


def test_forbidden_stops_the_batch(gw, sleeps):
    gw.fail_next(1, http_status=403)
    with pytest.raises(BatchStopError):
        channel_for(gw, sleeps).deliver(message())


def test_exhausted_credit_stops_the_batch(sleeps):
    with SmsGatewayEmulator(api_key=KEY, credits=3) as gw:
        channel = channel_for(gw, sleeps)
        channel.deliver(message())  # 2 parts
        with pytest.raises(BatchStopError) as caught:
            channel.deliver(message("+33611111111"))
        assert "crédit SMS est épuisé" in caught.value.message
        assert caught.value.code == "http_402_not_enough_credits"
        assert len(gw.accepted) == 1


def test_invalid_number_gives_up_for_this_member(gw, sleeps):
    gw.invalid_numbers(NUMERO)
    with pytest.raises(RecipientError) as caught:
        channel_for(gw, sleeps).deliver(message())
    assert caught.value.scope is Scope.RECIPIENT
    assert "Numéro refusé" in caught.value.message
    assert not caught.value.try_sms


def test_sender_refused_by_the_gateway_stops_the_batch(gw, sleeps):
    gw.fail_next(1, http_status=400, message="Invalid sender name")
    with pytest.raises(BatchStopError) as caught:
        channel_for(gw, sleeps).deliver(message())
    assert "SMS_EXPEDITEUR" in caught.value.message


def test_rate_limit_is_retried_with_the_gateway_pause(gw, sleeps):
    gw.fail_next(2, http_status=429)
    retried: list[ChannelError] = []
    channel = channel_for(gw, sleeps)
    channel.deliver(message(), on_retry=retried.append)
    assert all(isinstance(e, RateLimited) for e in retried) and len(retried) == 2
    assert all(pause >= 1.0 for pause in sleeps)  # x-sib-ratelimit-reset: 1
    assert channel.bucket.rate < channel.bucket.max_rate
    assert gw.accepted_count(NUMERO) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(gw, sleeps, status):
    gw.fail_next(2, http_status=status)
    channel_for(gw, sleeps).deliver(message())
    assert gw.accepted_count(NUMERO) == 1 and len(sleeps) == 2


def test_lost_answers_are_uncertain_and_never_retried(gw, sleeps):
    gw.drop_next(1)
    with pytest.raises(UncertainError) as caught:
        channel_for(gw, sleeps, timeout=0.2).deliver(message())
    assert caught.value.message.startswith("La passerelle SMS n'a pas répondu")
    gw.hang_next(1, 5.0)
    with pytest.raises(UncertainError):
        channel_for(gw, sleeps, timeout=0.2).deliver(message())
    assert gw.requests_total == 2 and not sleeps and gw.accepted_count(NUMERO) == 0


def test_a_stop_code_never_leaves_in_an_sms(gw, sleeps):
    with pytest.raises(BatchStopError) as caught:
        channel_for(gw, sleeps).deliver(message(text="Alerte vol. STOP au 36173"))
    assert "STOP au 36173" in caught.value.message and gw.requests_total == 0


def test_gives_up_after_max_attempts(gw, sleeps):
    gw.fail_next(10, http_status=500)
    with pytest.raises(RetryableError) as caught:
        channel_for(gw, sleeps, retry=RetryPolicy(3, 0.001, 0.002)).deliver(message())
    assert "erreur 500" in caught.value.message
    assert gw.requests_total == 3 and gw.accepted_count(NUMERO) == 0


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (401, {"code": "unauthorized", "message": "Key not found"}, BatchStopError),
        (402, {"code": "not_enough_credits", "message": "Not enough credits"}, BatchStopError),
        (400, {"code": "invalid_parameter", "message": "Invalid phone number"}, RecipientError),
        (400, {"code": "invalid_parameter", "message": "Invalid sender"}, BatchStopError),
        (400, {"code": "bad_request", "message": "Something"}, RecipientError),
        (429, None, RateLimited),
        (500, None, RetryableError),
        (503, {"code": "internal_error"}, RetryableError),
    ],
)
def test_classify_error_without_network(status, body, expected):
    error = classify_error(status, body, sender_name="AlerteMsg")
    assert type(error) is expected
    assert error.message[:1].isupper() and error.message.endswith(".")


def test_emulator_validates_like_brevo(gw):
    url = gw.api_url
    ok = {"sender": "AlerteMsg", "recipient": "33612345678", "content": "x",
          "type": "transactional"}
    missing = requests.post(url, json={**ok, "content": ""}, headers={"api-key": KEY}, timeout=5)
    assert missing.status_code == 400 and missing.json()["code"] == "missing_parameter"
    no_key = requests.post(url, json=ok, timeout=5)
    assert no_key.status_code == 401 and no_key.json()["code"] == "unauthorized"
    good = requests.post(url, json=ok, headers={"api-key": KEY}, timeout=5)
    assert good.status_code == 201
    assert {"messageId", "smsCount", "remainingCredits"} <= set(good.json())


# -- bulk and logs ---------------------------------------------------------------------------


@pytest.mark.slow
def test_bulk_sms_with_random_faults_never_twice():
    count = 300
    with SmsGatewayEmulator(api_key=KEY, latency=0.02) as gw:
        gw.faults(rate_5xx=0.1, rate_timeout=0.05, hang_seconds=0.2, seed=99)
        channel = channel_for(gw, retry=RetryPolicy(12, base_delay=0.001, max_delay=0.01))
        targets = mobiles(count)
        delivered = deliver_concurrently(channel, [message(numero) for numero in targets])
        channel.close()
        assert gw.requests_total > count and delivered.count(False) < count // 5
        for numero, ok in zip(targets, delivered, strict=True):
            assert gw.accepted_count(numero) == (1 if ok else 0)


def test_no_key_or_full_number_in_logs(gw, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    channel = channel_for(gw, sleeps)
    gw.fail_next(2, http_status=503)
    channel.deliver(message())
    gw.invalid_numbers("+33698765432")
    errors = []
    for target, chan in (("+33698765432", channel), (NUMERO, channel_for(gw, sleeps, key="k2"))):
        try:
            chan.deliver(message(target))
        except ChannelError as error:
            errors.append(error)
    assert len(errors) == 2
    text = caplog.text + " ".join(e.message for e in errors) + repr(channel)
    assert "+33 6 •• •• •• 78" in caplog.text
    for secret in (KEY, "33612345678", "33698765432"):
        assert secret not in text
