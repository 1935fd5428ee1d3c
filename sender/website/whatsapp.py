"""The sign-up by WhatsApp on the built site: the network's number, its click-to-chat link with
« INSCRIPTION » typed, and the QR code of that link (read by `pelicanconf.py` from
WHATSAPP_NUMERO_PUBLIC; the poster of `alerte-message affiche` shows the same)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sender.config import public_number
from sender.domain.clicktochat import SIGNUP_WORD, display_number, qr_svg, wa_me_url


@dataclass(frozen=True, slots=True)
class SignupLink:
    number: str  # digits, international
    shown: str  # « +33 4 66 00 00 00 »
    url: str  # https://wa.me/…?text=INSCRIPTION
    qr: str  # inline SVG

    @property
    def word(self) -> str:
        return SIGNUP_WORD


def signup_link(number: str) -> SignupLink:
    """The link, its QR code and the number as people read it."""
    url = wa_me_url(number, SIGNUP_WORD)
    return SignupLink(
        number, display_number(number), url,
        qr_svg(url, title=f"Code QR\u00a0: ouvre WhatsApp avec le message «\u00a0{SIGNUP_WORD}"
                          f"\u00a0» pour le {display_number(number)}", scale=6),
    )


def from_environment(env: Mapping[str, str]) -> SignupLink | None:
    """The sign-up link of WHATSAPP_NUMERO_PUBLIC, or None when it is not set. Raises
    ConfigurationError (French) for a number that is not international."""
    number = public_number(env.get("WHATSAPP_NUMERO_PUBLIC", ""))
    return None if number is None else signup_link(number)
