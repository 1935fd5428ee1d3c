"""Phone number cleaning: pure functions around `phonenumbers`.

Only numbers that can receive WhatsApp or SMS alerts (mobiles) are accepted; every refusal carries
a French reason a CMA clerk can act on.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

DEFAULT_REGION = "FR"

_ACCEPTED_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}
_TYPE_REASONS = {
    PhoneNumberType.FIXED_LINE: "numéro de ligne fixe : les alertes partent sur un mobile",
    PhoneNumberType.VOIP: "numéro de téléphonie par Internet (09…) : il faut un mobile",
    PhoneNumberType.PREMIUM_RATE: "numéro surtaxé : il faut un mobile",
    PhoneNumberType.TOLL_FREE: "numéro vert : il faut un mobile",
    PhoneNumberType.SHARED_COST: "numéro à coût partagé : il faut un mobile",
    PhoneNumberType.PERSONAL_NUMBER: "numéro personnel redirigé : il faut un mobile",
    PhoneNumberType.PAGER: "numéro de récepteur d'appel : il faut un mobile",
    PhoneNumberType.UAN: "numéro d'entreprise unique : il faut un mobile",
    PhoneNumberType.VOICEMAIL: "numéro de messagerie vocale : il faut un mobile",
}

_PREFIX = re.compile(r"^\s*(?:tel|tél|phone|mobile|portable|port|gsm)\s*[:.]?\s*", re.IGNORECASE)
_ANNOTATION = re.compile(r"\((?=[^)]*[^\W\d_])[^)]*\)|\[[^\]]*\]")
_TRAILING_TEXT = re.compile(r"[^\W\d_][^0-9]*$")
_ZERO_IN_PARENS = re.compile(r"\(\s*0\s*\)")
_DIGITS_ONLY = re.compile(r"\D")


@dataclass(frozen=True, slots=True)
class PhoneResult:
    """Outcome of cleaning one typed number.

    `numero` is the E.164 form when the number could be parsed at all (even if refused), so that
    duplicates of a refused landline can still be recognised.
    """

    numero: str | None
    ok: bool
    remarque: str = ""


def _strip_noise(raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip()
    text = _PREFIX.sub("", text)
    text = _ANNOTATION.sub(" ", text)
    text = _TRAILING_TEXT.sub("", text)
    text = _ZERO_IN_PARENS.sub("", text)
    return text.strip()


def _candidates(text: str) -> list[str]:
    """Spellings to try, most literal first; covers numbers a spreadsheet stripped of their 0."""
    digits = _DIGITS_ONLY.sub("", text)
    out = [text]
    if not text.lstrip().startswith("+") and not digits.startswith("00"):
        if len(digits) == 9 and digits[0] in "67":
            out.append("0" + digits)
        elif len(digits) == 11 and digits.startswith("33"):
            out.append("+" + digits)
    return out


@lru_cache(maxsize=200_000)
def clean_phone(raw: str, region: str = DEFAULT_REGION) -> PhoneResult:
    """Normalise a phone number typed by a person to E.164 and say whether it can get alerts."""
    if not (raw or "").strip():
        return PhoneResult(None, False, "numéro de téléphone manquant")
    text = _strip_noise(raw)
    if not any(ch.isdigit() for ch in text):
        return PhoneResult(None, False, "aucun chiffre dans le numéro : vérifier la saisie")
    if any(ch.isalpha() for ch in text):
        return PhoneResult(None, False, "le numéro contient des lettres : vérifier la saisie")
    parsed = None
    for candidate in _candidates(text):
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            parsed = number
            break
        parsed = parsed or number
    if parsed is None:
        return PhoneResult(None, False, "numéro illisible : vérifier les chiffres")
    if not phonenumbers.is_valid_number(parsed):
        digits = len(_DIGITS_ONLY.sub("", text))
        if parsed.country_code == 33 and digits not in (9, 10, 11, 13):
            return PhoneResult(
                None, False, f"numéro incomplet ou trop long ({digits} chiffres au lieu de 10)"
            )
        return PhoneResult(None, False, "numéro qui n'existe pas : vérifier les chiffres")
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    kind = phonenumbers.number_type(parsed)
    if kind in _ACCEPTED_TYPES:
        return PhoneResult(e164, True, "")
    reason = _TYPE_REASONS.get(
        kind, "numéro qui ne peut pas recevoir de message : il faut un mobile"
    )
    return PhoneResult(e164, False, reason)


def mask_phone(number: str) -> str:
    """Mask a number for logs: `+33612345678` → `+33 6 •• •• •• 78`."""
    digits = _DIGITS_ONLY.sub("", number or "")
    if len(digits) < 4:
        return "•" * len(digits)
    if digits.startswith("33") and len(digits) == 11:
        return f"+33 {digits[2]} •• •• •• {digits[-2:]}"
    return f"+{digits[:2]} {'•' * (len(digits) - 4)} {digits[-2:]}"


def whatsapp_recipient(e164: str) -> str:
    """WhatsApp Cloud API wants digits without the plus sign."""
    return e164.lstrip("+")
