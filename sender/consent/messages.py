"""The confirmation messages: one short French message per request, with its signed link.

WhatsApp sends an approved utility template (`confirmation_inscription`,
`confirmation_desinscription`) with two named body parameters, `date_limite` and `lien`, and a
quick-reply button « Je confirme » whose payload is the token (tapping it reaches the WhatsApp
webhook, which calls `confirm.confirm_token` with the sender's number). SMS and the outbox send
the same sentences as plain text. The site's pages quote these sentences word for word
(`SITE_SENTENCES`, checked by the tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sender.channels.base import OutgoingMessage
from sender.consent.tokens import DESINSCRIPTION, INSCRIPTION
from sender.register.defaults import SIGNATURE
from sender.text import day_and_hour

TEMPLATES: Final = {
    INSCRIPTION: "confirmation_inscription",
    DESINSCRIPTION: "confirmation_desinscription",
}
BUTTON: Final = "Je confirme"

# What each message asks, and what happens without an answer: the site says the same.
ASK: Final = {
    INSCRIPTION: (
        "pour recevoir les alertes du réseau sur ce numéro, confirmez votre inscription"
    ),
    DESINSCRIPTION: (
        "pour ne plus recevoir les alertes sur ce numéro, confirmez votre désinscription"
    ),
}
WITHOUT_ANSWER: Final = {
    INSCRIPTION: "Sans confirmation, vous ne recevrez aucune alerte.",
    DESINSCRIPTION: "Sans confirmation, vous continuez à recevoir les alertes.",
}
SITE_SENTENCES: Final = (*ASK.values(), *WITHOUT_ANSWER.values())


def confirmation_url(site_url: str, token: str) -> str:
    return f"{site_url.rstrip('/')}/confirmer?jeton={token}"


def _opening(kind: str) -> str:
    ask = ASK[kind]
    return ask[:1].upper() + ask[1:]


def text_of(kind: str, url: str, deadline: datetime) -> str:
    """The SMS and outbox text: GSM-7 characters only (no « ç », « ê », « ’ »), so that with a
    link of about 100 characters it fits two SMS parts (2 × 153). Like every message of the
    network, it ends with the signature « Réseau Alerte Message »."""
    return (
        f"{_opening(kind)} avant le {day_and_hour(deadline)} : {url}\n"
        f"{WITHOUT_ANSWER[kind]}\n{SIGNATURE}"
    )


def whatsapp_body(kind: str) -> str:
    """The template body to have approved by Meta (utility category), with its parameters; it
    ends with the network's signature, like the alert templates."""
    return (
        f"{_opening(kind)} en touchant « {BUTTON} » ou en ouvrant ce lien avant le "
        "{{date_limite}} : {{lien}}\n" + WITHOUT_ANSWER[kind] + "\n" + SIGNATURE
    )


@dataclass(frozen=True)
class ConfirmationMessage:
    """One request's message, the same object for every channel (`Compose`)."""

    message_id: str
    kind: str
    token: str
    url: str
    deadline: datetime

    def __call__(self, channel: str, numero: str) -> OutgoingMessage:
        return OutgoingMessage(
            alert_id=self.message_id,
            numero=numero,
            text=text_of(self.kind, self.url, self.deadline),
            template=TEMPLATES[self.kind],
            parameters={"date_limite": day_and_hour(self.deadline), "lien": self.url},
            button_payload=self.token,
        )
