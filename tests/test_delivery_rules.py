"""The pure rules of delivery: status merging, row changes, resend decisions, the circuit
breaker, callback strings, payload reading and the classification of incoming messages."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sender.channels.smslength import stop_code
from sender.delivery.incoming import (
    CODE,
    CONFIRMATION,
    OPT_OUT,
    OPT_OUT_PREFERENCE,
    TEXT,
    classify,
)
from sender.delivery.payload import StatusEvent, parse
from sender.delivery.signature import handshake, sign, valid_signature
from sender.delivery.status import RowView, apply, merge
from sender.dispatch.breaker import CircuitBreaker
from sender.dispatch.decisions import Decision, Rules, decide
from sender.journal.callback import decode, encode, reference
from sender.journal.states import (
    DEFERRED,
    FAILED,
    GAVE_UP,
    PENDING,
    SENT,
    UNCERTAIN,
    JournalEntry,
)
from support.emulators.webhooks import (
    button_message,
    envelope,
    preference_stop,
    status_item,
    text_message,
)

STATUSES = ("accepted", "sent", "delivered", "read", "failed")


# -- merging statuses ------------------------------------------------------------------------


@given(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=8))
def test_any_order_and_any_duplicates_give_the_same_delivery(events):
    results = set()
    for order in itertools.islice(itertools.permutations(events), 60):
        current = None
        for event in order:
            current = merge(current, event)
        results.add(current)
    assert len(results) == 1
    final = results.pop()
    if {"delivered", "read"} & set(events):
        assert final == ("read" if "read" in events else "delivered")
    elif "failed" in events:
        assert final == "failed"


def test_merge_examples():
    assert merge("failed", "delivered") == "delivered"  # a later delivered proves it arrived
    assert merge("delivered", "failed") == "delivered"
    assert merge("failed", "sent") == "failed"
    assert merge("read", "delivered") == "read"  # read before delivered
    assert merge(None, "sent") == "sent"


# -- a status applied to a journal row --------------------------------------------------------


def row(state=SENT, channel="whatsapp", attempts=1, delivery="accepted", code=None):
    return RowView(state, channel, attempts, delivery, code, "wamid.1")


def event(status, code=None):
    return StatusEvent("wamid.1", status, 1_700_000_000, "cb", code)


def test_a_recipient_failure_makes_the_row_failed_and_final():
    change = apply(row(), event("failed", 131026), 1)
    assert (change.state, change.error_code, change.final) == (FAILED, "131026", True)
    assert change.delivery == "failed" and "131026" in change.error_text


def test_a_transient_failure_sends_again_and_a_setting_failure_is_retryable():
    assert apply(row(), event("failed", 131000), 1).state == GAVE_UP
    change = apply(row(), event("failed", 131042), 1)  # payment problem: account-wide
    assert change.state == FAILED and change.final is False


def test_delivered_after_failed_settles_the_row_as_reached():
    failed = apply(row(), event("failed", 131026), 1)
    after = RowView(failed.state, "whatsapp", 1, failed.delivery, failed.delivery_code, "w")
    change = apply(after, event("delivered"), 1)
    assert (change.state, change.delivery) == (SENT, "delivered")
    later_sent = apply(after, event("sent"), 1)
    assert (later_sent.state, later_sent.delivery) == (FAILED, "failed")


def test_a_status_settles_an_uncertain_row_and_an_old_failure_is_ignored():
    assert apply(row(UNCERTAIN, delivery=None), event("sent"), 1).state == SENT
    assert apply(row(PENDING, delivery=None), event("read"), 1).state == SENT
    assert apply(row(PENDING, attempts=2, delivery=None), event("failed", 131026), 1) is None
    assert apply(row(PENDING, attempts=2, delivery=None), event("delivered"), 1).state == SENT


def test_after_the_sms_fallback_whatsapp_statuses_only_change_the_delivery():
    change = apply(row(SENT, channel="sms", delivery="failed"), event("failed", 131026), 1)
    assert change.state == SENT
    change = apply(row(SENT, channel="sms", delivery="failed"), event("delivered"), 1)
    assert (change.state, change.delivery) == (SENT, "delivered")


# -- what to do with a recipient ------------------------------------------------------------


def entry(state, *, channel="whatsapp", code=None, final=True, uncertain=0, updated=1000.0):
    return JournalEntry(
        "A1", "+33600000001", channel, state, 1, None, None, code, None, None, updated,
        None, uncertain=uncertain, final=final,
    )


SMS = frozenset({"131026", "131049", "130472", "131050"})


@pytest.mark.parametrize(
    ("row_", "rules", "expected"),
    [
        (None, Rules(now=2000), Decision.SEND),
        (entry(SENT), Rules(now=2000), Decision.REACHED),
        (entry(DEFERRED), Rules(now=2000), Decision.SEND),
        (entry(GAVE_UP), Rules(now=2000), Decision.SEND),
        (entry(FAILED, code="131047"), Rules(now=2000, retry_failed=True), Decision.FAILED),
        (entry(FAILED, code="http_404", final=False), Rules(now=2000), Decision.FAILED),
        (entry(FAILED, code="http_404", final=False), Rules(now=2000, retry_failed=True),
         Decision.SEND),
        (entry(FAILED, code="131026"), Rules(now=2000, sms_codes=SMS), Decision.SMS),
        (entry(FAILED, code="131026"), Rules(now=2000), Decision.FAILED),
        (entry(FAILED, channel="sms", code="131026"), Rules(now=2000, sms_codes=SMS),
         Decision.FAILED),
        # without webhooks: one more copy at most
        (entry(UNCERTAIN, uncertain=1), Rules(now=2000), Decision.RESEND),
        (entry(PENDING), Rules(now=2000), Decision.RESEND),
        (entry(PENDING, uncertain=1), Rules(now=2000), Decision.UNCONFIRMED),
        (entry(UNCERTAIN, uncertain=2), Rules(now=2000), Decision.UNCONFIRMED),
        # with webhooks: wait for the status, then resend only if statuses do arrive
        (entry(UNCERTAIN, uncertain=1), Rules(now=1050, webhooks=True, wait=120),
         Decision.WAIT),
        (entry(UNCERTAIN, uncertain=3),
         Rules(now=2000, webhooks=True, confirmed_claim_at=1500), Decision.RESEND),
        (entry(UNCERTAIN, uncertain=2),
         Rules(now=2000, webhooks=True, confirmed_claim_at=900), Decision.UNCONFIRMED),
        # the last message of an alert: no later one; after the long wait, statuses suffice
        (entry(UNCERTAIN, uncertain=2),
         Rules(now=1200, webhooks=True, wait=120, confirmed_claim_at=900, last_status_at=1100),
         Decision.WAIT),
        (entry(UNCERTAIN, uncertain=2),
         Rules(now=1400, webhooks=True, wait=120, confirmed_claim_at=900, last_status_at=1100),
         Decision.RESEND),
        (entry(UNCERTAIN, uncertain=2),
         Rules(now=1400, webhooks=True, wait=120, confirmed_claim_at=900, last_status_at=990),
         Decision.UNCONFIRMED),
        (entry(UNCERTAIN, channel="sms", uncertain=2),
         Rules(now=2000, webhooks=True, confirmed_claim_at=1500), Decision.UNCONFIRMED),
    ],
)
def test_decisions(row_, rules, expected):
    assert decide(row_, rules) is expected


@given(st.integers(0, 5), st.booleans(), st.floats(0, 5000), st.sampled_from([None, 500.0, 1500.0]),
       st.sampled_from([None, 500.0, 1500.0]), st.booleans())
def test_without_live_webhooks_never_more_than_two_copies(copies, pending, now, confirmed,
                                                          last, webhooks):
    """Whatever the history, a resend is decided only while the member has at most one
    possible copy, unless statuses arrived after the lost attempt (claimed at 1000 here)."""
    row_ = entry(PENDING if pending else UNCERTAIN, uncertain=copies, updated=1000.0)
    rules = Rules(now=now, webhooks=webhooks, wait=120, confirmed_claim_at=confirmed,
                  last_status_at=last)
    decision = decide(row_, rules)
    age = now - 1000.0
    confirmed_after = confirmed is not None and confirmed >= 1000.0
    alive = last is not None and last > 1000.0
    few_copies = row_.possible_copies < 2
    if not webhooks:
        assert decision is (Decision.RESEND if few_copies else Decision.UNCONFIRMED)
    elif decision is Decision.WAIT:  # a status may still come
        assert age < 120 or (alive and not confirmed_after and age < 3 * 120)
    elif decision is Decision.RESEND:
        assert age >= 120 and (few_copies or confirmed_after or alive)
    else:
        assert decision is Decision.UNCONFIRMED
        assert age >= 120 and not few_copies and not confirmed_after and not alive


# -- the circuit breaker ----------------------------------------------------------------------


def test_the_breaker_trips_on_the_same_suspect_error_in_a_row():
    breaker = CircuitBreaker(threshold=3)
    assert breaker.observe("http_404", "adresse fausse") is None
    assert breaker.observe("http_404", "adresse fausse") is None
    assert "adresse fausse" in breaker.observe("http_404", "adresse fausse")


def test_a_success_or_another_error_resets_the_breaker():
    breaker = CircuitBreaker(threshold=2)
    breaker.observe("100", "paramètre")
    assert breaker.observe(None, None) is None
    assert breaker.observe("100", "paramètre") is None
    assert breaker.observe("135000", "générique") is None
    assert breaker.observe("135000", "générique") is not None


# -- callback strings ------------------------------------------------------------------------


def test_callback_round_trip_without_the_number():
    key = bytes(range(32))
    ref = reference(key, "+33612345678")
    text = encode("A:12", ref, 3)
    assert "612345678" not in text and "33612345678" not in text
    back = decode(text)
    assert (back.alert_id, back.reference, back.attempt) == ("A:12", ref, 3)
    assert reference(key, "+33612345679") != ref


@pytest.mark.parametrize("text", [None, "", "am1:xyz:1:A", "autre:0123456789abcdef:1:A",
                                  "am1:0123456789abcdef:x:A", "am1:0123456789abcdef:1:"])
def test_foreign_or_damaged_callbacks_are_ignored(text):
    assert decode(text) is None


def test_an_alert_id_too_long_gets_no_callback():
    assert encode("x" * 600, "0123456789abcdef", 1) is None


# -- payloads (shapes of Meta's documentation, as the emulator posts them) ---------------------


def test_status_payload_with_error_and_callback():
    item = status_item("wamid.A", "failed", "33612345678", "am1:0123456789abcdef:2:7",
                       code=131026, title="Message undeliverable")
    events = parse(envelope("messages", {"statuses": [item]}, "106540352242922"))
    (status,) = events.statuses
    assert (status.wamid, status.status, status.error_code) == ("wamid.A", "failed", 131026)
    assert decode(status.callback).attempt == 2


def test_incoming_opt_outs_and_other_messages():
    value = text_message("33612345678", "wamid.in1", "Désinscription")
    value["messages"].append({"from": "33612345679", "id": "wamid.in2", "type": "image",
                              "image": {"id": "1"}})
    events = parse(envelope("messages", value, "1"))
    assert [(m.sender, m.kind) for m in events.incoming] == [("33612345678", OPT_OUT)]
    events = parse(envelope("user_preferences", preference_stop("33612345678"), "1"))
    assert [(m.sender, m.kind) for m in events.incoming] == [("33612345678", OPT_OUT_PREFERENCE)]


def test_template_updates_are_read_and_strange_payloads_skipped():
    update = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "message_template_status_update",
        "value": {"event": "PAUSED", "message_template_name": "alerte_commercants",
                  "reason": "LOW_QUALITY"}}]}]}
    (template,) = parse(update).templates
    assert (template.name, template.event) == ("alerte_commercants", "PAUSED")
    for strange in (None, [], {"object": "x"}, {"object": "whatsapp_business_account",
                                                 "entry": [{"changes": [{"value": 3}]}]}):
        assert len(parse(strange)) == 0


@pytest.mark.parametrize(
    "text", ["STOP", "stop", "Stop !", "ARRÊT", "arret", "Arrêt.", "DESINSCRIPTION",
             "désinscription", "  Désinscription  "],
)
def test_opt_out_words_in_any_case_with_or_without_accents(text):
    assert classify({"type": "text", "text": {"body": text}}) == OPT_OUT


@pytest.mark.parametrize("text", ["stop merci", "Bonjour", "arrêtez", "INSCRIPTION"])
def test_other_texts_are_not_opt_outs_but_kept_for_a_conversation(text):
    assert classify({"type": "text", "text": {"body": text}}) == TEXT


@pytest.mark.parametrize("text", ["INSCRIPTION 48-7421", "désinscription 487421",
                                  "Inscription 48 74"])
def test_texts_with_a_code_are_codes(text):
    assert classify({"type": "text", "text": {"body": text}}) == CODE


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_texts_are_ignored(text):
    assert classify({"type": "text", "text": {"body": text}}) is None


def test_a_tap_on_the_quick_reply_button_is_a_confirmation_with_its_payload():
    value = button_message("33612345678", "wamid.in3", "i.12.abc.tpp1aw.sig", "Je confirme",
                           "wamid.sent", business="1")
    (message,) = parse(envelope("messages", value, "1")).incoming
    assert (message.sender, message.kind, message.body) == (
        "33612345678", CONFIRMATION, "i.12.abc.tpp1aw.sig"
    )
    for empty in ({"type": "button", "button": {"text": "Je confirme"}},
                  {"type": "button", "button": {"payload": ""}}, {"type": "button"}):
        assert classify(empty) is None


def test_classifiers_can_be_extended():
    def button(message):
        return "bouton" if message.get("type") == "button" else None

    assert classify({"type": "button", "button": {"payload": "OK"}}, (button,)) == "bouton"


# -- signature and handshake -------------------------------------------------------------------


def test_signature_is_checked_in_full():
    body = b'{"object":"whatsapp_business_account"}'
    good = sign(body, "secret")
    assert valid_signature(body, good, "secret")
    assert not valid_signature(body + b" ", good, "secret")
    assert not valid_signature(body, good, "autre")
    assert not valid_signature(body, good, None)
    assert not valid_signature(body, None, "secret")


def test_handshake():
    query = {"hub.mode": "subscribe", "hub.verify_token": "t", "hub.challenge": "42"}
    assert handshake(query, "t") == "42"
    assert handshake(query, "u") is None and handshake(query, None) is None


# -- SMS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["STOP au 36173", "stop : 36111", "STOP SMS 36200"])
def test_stop_codes_are_found(text):
    assert stop_code(f"Alerte vol à Mende. {text}")


def test_ordinary_words_are_not_stop_codes():
    assert stop_code("Stop aux escroqueries : 2 faux billets de 50 euros") is None
