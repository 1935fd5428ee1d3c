"""Messages members send to the WhatsApp number: which ones the sender acts on.

`classify` is the one place that says what an incoming message means. It runs the functions of
`CLASSIFIERS` in order; the first that recognises the message gives its kind, and messages no
classifier recognises are ignored (nothing of them is stored). To act on a new kind of message
(a quick-reply button, say), add a classifier here and handle its kind where the cycle reads
the inbox (`Sender.run_once` calls `optouts.OptOuts` for opt-outs and
`confirmations.ButtonConfirmations` for taps on the confirmation button).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sender.consent.codes import is_code_like
from sender.consent.confirm import button_answer
from sender.text import fold

OPT_OUT = "desinscription"  # a text such as « STOP »: the member wrote to us (24 h window)
OPT_OUT_PREFERENCE = "preference"  # Meta's « stop » marketing preference: no message from them
OPT_OUT_KINDS = (OPT_OUT, OPT_OUT_PREFERENCE)
# A tap on the « Je confirme » quick-reply button of a confirmation message (its payload is the
# signed token): the request is confirmed, nothing is answered.
CONFIRMATION = "confirmation"
# « INSCRIPTION 48-7421 »: the code shown after a form request, sent from the person's phone
# (reverse confirmation, `conversation.inbox`).
CODE = "code"
# Any other text: the answers of a sign-up conversation (« INSCRIPTION » starts one).
TEXT = "texte"
# Kinds stored as already answered: the sender sends nothing back.
UNANSWERED_KINDS = (OPT_OUT_PREFERENCE, CONFIRMATION)

# Compared after `fold` (no case, no accents, punctuation dropped): « Stop ! », « ARRÊT »,
# « arret », « Désinscription. » all match.
OPT_OUT_WORDS = frozenset({"stop", "arret", "desinscription"})

Classifier = Callable[[Mapping[str, Any]], str | None]


def opt_out_text(message: Mapping[str, Any]) -> str | None:
    """A text message made of one opt-out word."""
    if message.get("type") != "text":
        return None
    text = message.get("text")
    body = text.get("body") if isinstance(text, Mapping) else None
    if isinstance(body, str) and fold(body) in OPT_OUT_WORDS:
        return OPT_OUT
    return None


def _body(message: Mapping[str, Any]) -> str | None:
    if message.get("type") != "text":
        return None
    text = message.get("text")
    body = text.get("body") if isinstance(text, Mapping) else None
    return body if isinstance(body, str) else None


def code_text(message: Mapping[str, Any]) -> str | None:
    """A text carrying a confirmation code (« INSCRIPTION 48-7421 »)."""
    body = _body(message)
    return CODE if body is not None and is_code_like(body) else None


def any_text(message: Mapping[str, Any]) -> str | None:
    """Any other text with something in it: a sign-up conversation may be waiting for it."""
    body = _body(message)
    return TEXT if body is not None and body.strip() else None


def button_reply(message: Mapping[str, Any]) -> str | None:
    """A tap on a quick-reply button that carries a payload."""
    return CONFIRMATION if button_answer(message) is not None else None


CLASSIFIERS: tuple[Classifier, ...] = (opt_out_text, code_text, button_reply, any_text)


def classify(
    message: Mapping[str, Any], classifiers: Sequence[Classifier] = CLASSIFIERS
) -> str | None:
    """The kind of an incoming `messages[]` item the sender acts on, or None."""
    for classifier in classifiers:
        kind = classifier(message)
        if kind is not None:
            return kind
    return None
