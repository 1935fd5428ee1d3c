"""One recipient's send, run in a worker thread: primary channel, SMS fallback, outcome.

This is where channel errors become journal states: a recipient error is `failed` (or goes to
the SMS fallback when the channel says SMS may reach the member), a transient or batch error is
`gave_up` (retried by the next dispatch), a lost answer is `uncertain` (never resent here), and
a batch error on the primary channel (or a bug in an adapter) also stops the dispatch. A
recipient error that may come from a setting is `failed` but not final, and its likely cause
goes to the dispatcher's circuit breaker. `send` never raises an ordinary exception: it returns
an `Attempt` for the dispatcher to record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from sender.channels.base import Channel, ChannelError, Scope, SendResult
from sender.dispatch.messages import Compose
from sender.dispatch.quota import FALLBACK, PRIMARY
from sender.errors import AlerteError
from sender.journal.states import FAILED, GAVE_UP, SENT, UNCERTAIN, Outcome
from sender.text import mask_numbers, mask_phone

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Attempt:
    """One recipient's send, as the dispatcher records and counts it."""

    outcome: Outcome
    via_fallback: bool = False
    stop_motif: str | None = None  # set when the whole batch must stop
    suspect: str | None = None  # likely cause of a suspect error (for the circuit breaker)


def send(
    primary: Channel,
    fallback: Channel | None,
    numero: str,
    route: str,
    compose: Compose,
    callback: str | None = None,
) -> Attempt:
    """Runs in a worker thread: one recipient, never raises an ordinary exception. `callback`
    goes with the message (echoed by WhatsApp's status webhooks)."""
    channel = primary if route == PRIMARY else fallback
    assert channel is not None
    try:
        message = compose(channel.name, numero)
        if callback is not None:
            message = replace(message, callback=callback)
        result = channel.deliver(message)
    except ChannelError as error:
        to_sms = error.scope is Scope.RECIPIENT and error.try_sms and route == PRIMARY
        if to_sms and fallback is not None:
            return _send_fallback(fallback, numero, compose, error)
        return _failure(numero, channel, error, fallback=route == FALLBACK)
    except AlerteError as error:  # e.g. compose refused the text: nothing was sent
        return Attempt(
            Outcome(
                numero,
                FAILED,
                channel.name,
                error_code=type(error).__name__,
                error_text=mask_numbers(error.message),
            )
        )
    except Exception as error:  # a bug in an adapter: stop rather than guess
        log.exception("Erreur inattendue du canal %s pour %s", channel.name, mask_phone(numero))
        reason = (
            f"erreur inattendue du canal {channel.name} ({type(error).__name__}) : "
            "consulter le journal technique"
        )
        return Attempt(
            Outcome(
                numero,
                GAVE_UP,
                channel.name,
                error_code=type(error).__name__,
                error_text=reason,
            ),
            stop_motif=reason,
        )
    via_fallback = route == FALLBACK
    return Attempt(
        Outcome(
            numero, SENT, channel.name, result.message_id, result.wa_id, fallback=via_fallback,
            parts=_parts(channel, result),
        ),
        via_fallback=via_fallback,
    )


def _parts(channel: Channel, result: SendResult) -> int:
    """Billed SMS parts of a send (0 for other channels)."""
    if channel.name != "sms":
        return 0
    return max(1, result.segments or 1)


def _send_fallback(
    fallback: Channel, numero: str, compose: Compose, first: ChannelError
) -> Attempt:
    log.info("Secours SMS pour %s (%s).", mask_phone(numero), first.code or "")
    try:
        result = fallback.deliver(compose(fallback.name, numero))
    except AlerteError as error:
        state = FAILED
        if isinstance(error, ChannelError) and error.scope is Scope.UNCERTAIN:
            state = UNCERTAIN
        elif isinstance(error, ChannelError) and error.scope is not Scope.RECIPIENT:
            state = GAVE_UP  # the SMS gateway may come back: retry at the next dispatch
        text = f"{first.message} ; SMS de secours impossible : {error.message}"
        code = getattr(error, "code", None) or type(error).__name__
        return Attempt(
            Outcome(
                numero,
                state,
                fallback.name,
                error_code=code,
                error_text=mask_numbers(text),
            )
        )
    return Attempt(
        Outcome(numero, SENT, fallback.name, result.message_id, result.wa_id, fallback=True,
                parts=_parts(fallback, result)),
        via_fallback=True,
    )


def _failure(numero: str, channel: Channel, error: ChannelError, *, fallback: bool) -> Attempt:
    code = error.code or type(error).__name__
    text = mask_numbers(error.message)
    if error.scope is Scope.UNCERTAIN:
        log.info("Envoi incertain %s pour %s : %s", channel.name, mask_phone(numero), code)
        return Attempt(
            Outcome(numero, UNCERTAIN, channel.name, error_code=code, error_text=text)
        )
    if error.scope is Scope.BATCH and not fallback:
        return Attempt(
            Outcome(numero, GAVE_UP, channel.name, error_code=code, error_text=text),
            stop_motif=text,
        )
    state = FAILED if error.scope is Scope.RECIPIENT else GAVE_UP
    log.info("Échec %s pour %s : %s", channel.name, mask_phone(numero), code)
    return Attempt(
        Outcome(
            numero, state, channel.name, error_code=code, error_text=text, final=error.final
        ),
        suspect=error.suspect if state == FAILED else None,
    )
