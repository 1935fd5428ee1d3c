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
# Every remark, in one place: the Apps Script intake receives them from here (`appsscript`).
REMARKS = {
    "missing": "numéro de téléphone manquant",
    "no_digit": "aucun chiffre dans le numéro : vérifier la saisie",
    "letters": "le numéro contient des lettres : vérifier la saisie",
    "unreadable": "numéro illisible : vérifier les chiffres",
    "length": "numéro incomplet ou trop long ({digits} chiffres au lieu de 10)",
    "unknown": "numéro qui n'existe pas : vérifier les chiffres",
    "not_mobile": "numéro qui ne peut pas recevoir de message : il faut un mobile",
}
TYPE_REASONS = {
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
_ANY_DIGIT = re.compile(r"\d")
_ANY_LETTER = re.compile(r"[^\W\d_]")


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


_SIMPLE = re.compile(r"^\s*\+?[0-9 .\-/()]+$")
_CANONICAL_CACHE: dict[str, PhoneResult] = {}
_CANONICAL_LIMIT = 500_000


def _canonical_key(text: str) -> str | None:
    """One key for the usual spellings of the same French number, so each is parsed once.

    Only plain spellings (digits and separators) get a key; anything else goes to the parser.
    """
    if not _SIMPLE.match(text):
        return None
    plus = text.startswith("+")
    digits = _DIGITS_ONLY.sub("", _ZERO_IN_PARENS.sub("", text))
    if plus:
        return "+" + digits
    if digits.startswith("0033"):
        return "+33" + digits[4:]
    if digits.startswith("00"):
        return "+" + digits[2:]
    if len(digits) == 11 and digits.startswith("33"):
        return "+" + digits
    if len(digits) == 9 and digits[0] in "67":
        return "+33" + digits
    if len(digits) == 10 and digits[0] == "0" and digits[1] != "0":
        return "+33" + digits[1:]
    return "~" + digits  # national spelling we do not interpret: parse as typed


@lru_cache(maxsize=200_000)
def parse_phone(raw: str, region: str = DEFAULT_REGION) -> PhoneResult:
    """Normalise a phone number typed by a person to E.164 and say whether it can get alerts."""
    if not (raw or "").strip():
        return PhoneResult(None, False, REMARKS["missing"])
    text = raw.strip() if _SIMPLE.match(raw) else _strip_noise(raw)
    key = _canonical_key(text) if region == DEFAULT_REGION else None
    if key is not None:
        known = _CANONICAL_CACHE.get(key)
        if known is not None:
            return known
        result = _from_key(key) if key.startswith("+33") else None
        if result is None:
            # Parsed as typed: another spelling of the same digits may parse differently
            # (« 89 » is a number for phonenumbers, « 8 9 » is not), so not memoised by key.
            return _parse(text, region)
        if len(_CANONICAL_CACHE) < _CANONICAL_LIMIT:
            _CANONICAL_CACHE[key] = result
        return result
    if not _ANY_DIGIT.search(text):
        return PhoneResult(None, False, REMARKS["no_digit"])
    if _ANY_LETTER.search(text):
        return PhoneResult(None, False, REMARKS["letters"])
    return _parse(text, region)


def _from_key(key: str) -> PhoneResult | None:
    """Plain French spellings reduce to +33 and nine digits: build the number directly.

    Validity and type still come from phonenumbers' metadata; only the string parsing, which
    the canonical key has already done, is skipped.
    """
    national = key[3:]
    if len(national) != 9 or national[0] == "0":
        return None
    number = phonenumbers.PhoneNumber(country_code=33, national_number=int(national))
    return _classify(number, phonenumbers.number_type(number), national)


def _parse(text: str, region: str) -> PhoneResult:
    parsed = None
    kind = PhoneNumberType.UNKNOWN
    for candidate in _candidates(text):
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        # number_type() is UNKNOWN exactly when the number is not valid for its region, so one
        # call answers both questions (is_valid_number would run the same patterns again).
        kind = phonenumbers.number_type(number)
        parsed = number if parsed is None or kind != PhoneNumberType.UNKNOWN else parsed
        if kind != PhoneNumberType.UNKNOWN:
            break
    if parsed is None:
        return PhoneResult(None, False, REMARKS["unreadable"])
    return _classify(parsed, kind, text)


def _classify(parsed: phonenumbers.PhoneNumber, kind: int, text: str) -> PhoneResult:
    if kind == PhoneNumberType.UNKNOWN:
        digits = len(_DIGITS_ONLY.sub("", text))
        if parsed.country_code == 33 and digits not in (9, 10, 11, 13):
            return PhoneResult(None, False, REMARKS["length"].format(digits=digits))
        return PhoneResult(None, False, REMARKS["unknown"])
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    if kind in _ACCEPTED_TYPES:
        return PhoneResult(e164, True, "")
    reason = TYPE_REASONS.get(kind, REMARKS["not_mobile"])
    return PhoneResult(e164, False, reason)


def clear_caches() -> None:
    """Forget every cleaned number, so that a benchmark measures a cold start."""
    parse_phone.cache_clear()
    _CANONICAL_CACHE.clear()


def whatsapp_recipient(e164: str) -> str:
    """WhatsApp Cloud API wants digits without the plus sign."""
    return e164.lstrip("+")


def from_whatsapp(wa_id: str) -> str:
    """The E.164 number of a WhatsApp id (its digits, without the plus sign)."""
    return "+" + wa_id.lstrip("+")


@lru_cache(maxsize=4096)
def region_of(numero: str) -> str | None:
    """The region (ISO 3166 code, as phonenumbers names it) whose operators issued an E.164
    number: `+262 639…` is Mayotte (YT), `+262 692…` La Réunion (RE); None if unknown."""
    try:
        parsed = phonenumbers.parse(numero, None)
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.region_code_for_number(parsed)


def allowed_country(numero: str, countries: tuple[str, ...]) -> bool:
    """Whether a number was issued in one of `countries` (`Settings.limits.countries`)."""
    return region_of(numero) in countries
