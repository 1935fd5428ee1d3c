"""Validation of the public signup and unsubscribe forms (pure functions, no I/O).

The same rules apply whatever transports the form (local WSGI intake, Apps Script): every refusal
carries a French message shown next to the field, and the row to store is already safe for a
spreadsheet (control characters removed, formula starts neutralised).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sender import dates
from sender.domain.communes import match_commune
from sender.domain.phones import allowed_country, parse_phone
from sender.limits import FRENCH_REGIONS
from sender.schema import ACTIVITES, SOURCE_FORMULAIRE
from sender.text import neutralise

CONSENT_VERSION: Final = "v1"
HONEYPOT: Final = "site_web"

# Longest value accepted per field (characters, after cleaning). At least the `maxlength` of the
# theme's inputs, so a browser never lets a person type something the server refuses for length.
MAX_LENGTHS: Final[dict[str, int]] = {
    "nom": 120,
    "entreprise": 150,
    "commune": 120,
    "telephone": 40,
}

_NBSP: Final = "\u00a0"  # before « : » and inside « »
_NNBSP: Final = "\u202f"  # before « ; ? ! »

LABELS: Final[dict[str, str]] = {
    "nom": "Le nom",
    "entreprise": "Le nom de l’entreprise",
    "commune": "Le nom de la commune",
    "telephone": "Le numéro",
}

MESSAGES: Final[dict[str, str]] = {
    "nom": "Indiquez votre nom et votre prénom.",
    "entreprise": "Indiquez le nom de votre entreprise.",
    "activite": "Choisissez votre activité dans la liste.",
    "commune": "Choisissez votre commune dans la liste des communes de Lozère.",
    "telephone": "Indiquez votre numéro de téléphone mobile.",
    "telephone_desinscription": "Indiquez le numéro de mobile qui reçoit les alertes.",
    "consentement": (
        "Cochez la case pour accepter que la CMA de la Lozère conserve ces informations "
        "et vous envoie les alertes."
    ),
}

# Bidirectional overrides and zero-width characters: invisible, and used to disguise text.
INVISIBLE: Final = frozenset(
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff\ufffe\uffff"
)
_SPACES: Final = re.compile(r"\s+")


def clean_text(value: object) -> str:
    """One line of text as a person meant it: NFC, no control or invisible characters.

    Tabs and line breaks become spaces, runs of spaces collapse, ends are trimmed.
    """
    if not isinstance(value, str):
        value = "" if value is None else str(value)
    text = unicodedata.normalize("NFC", value)
    kept = []
    for ch in text:
        if ch in INVISIBLE:
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs", "Co"):
            kept.append(" " if ch in "\t\n\r\x0b\x0c\x85" else "")
        elif category in ("Zl", "Zp"):
            kept.append(" ")
        else:
            kept.append(ch)
    return _SPACES.sub(" ", "".join(kept)).strip()


@dataclass(frozen=True, slots=True)
class FormOutcome:
    """What the intake does with one submission.

    - `is_spam`: the honeypot was filled; answer as for a success and store nothing.
    - `errors`: field name → French message (empty when the submission is valid).
    - `values`: cleaned user input to show again in the form (never the honeypot).
    - `row`: the row to append to the register when valid and not spam, else None.
    """

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    row: dict[str, str] | None = None
    is_spam: bool = False


def _first(form: Mapping[str, object], name: str) -> object:
    """A form value; when a parser gave a list (repeated key), the first one counts."""
    value = form.get(name, "")
    if isinstance(value, list | tuple):
        return value[0] if value else ""
    return value


# Message patterns (`{name}` fields), shared with the Apps Script intake (`appsscript`).
TOO_LONG: Final = "{label} est trop long" + _NBSP + ": {limit} caractères au maximum."
UNKNOWN_COMMUNE: Final = (
    "Nous ne trouvons pas «" + _NBSP + "{commune}" + _NBSP + "» parmi les communes de Lozère. "
    "{hint}"
)
PHONE_ERROR: Final = "{start}" + _NBSP + ": {detail}. {hint}, par exemple {example}."
PHONE_STARTS: Final = {
    "not_mobile": "Ce numéro n’est pas un mobile",
    "invalid": "Ce numéro n’est pas valide",
}
# A number whose operator is not in `Settings.limits.countries` (ALERTE_PAYS).
FOREIGN_PHONE: Final = (
    "Ce numéro n’est pas accepté" + _NBSP + ": le réseau n’envoie ses messages qu’aux "
    "mobiles {where}. Indiquez un numéro de mobile, par exemple {example}."
)
FRENCH_OPERATORS: Final = "des opérateurs français (métropole et outre-mer)"


def foreign_phone_message(countries: tuple[str, ...]) -> str:
    """The form's French message for a number issued outside `countries`."""
    where = (
        FRENCH_OPERATORS if set(countries) == set(FRENCH_REGIONS)
        else "de ces pays" + _NBSP + ": " + ", ".join(countries)
    )
    return FOREIGN_PHONE.format(where=where, example=EXAMPLE)


PHONE_HINTS: Final = {
    "signup": "Indiquez un numéro de mobile",
    "unsubscribe": "Indiquez le numéro de mobile inscrit",
}
EXAMPLE: Final = f"06{_NBSP}12{_NBSP}34{_NBSP}56{_NBSP}78"


def _too_long(name: str, limit: int) -> str:
    return TOO_LONG.format(label=LABELS[name], limit=limit)


def phone_detail(remarque: str) -> str:
    """A cleaning remark as the detail of a form message (French punctuation, no full stop)."""
    return remarque.replace(" : ", f"{_NNBSP}; ").rstrip(".")


def _phone_error(numero: str | None, remarque: str, hint: str) -> str:
    """« Ce numéro n'est pas un mobile : … » when it exists but is not a mobile."""
    start = PHONE_STARTS["not_mobile" if numero is not None else "invalid"]
    return PHONE_ERROR.format(
        start=start, detail=phone_detail(remarque), hint=PHONE_HINTS[hint], example=EXAMPLE
    )


def _text_field(
    form: Mapping[str, object], name: str, values: dict[str, str], errors: dict[str, str]
) -> str:
    text = clean_text(_first(form, name))
    values[name] = text
    limit = MAX_LENGTHS[name]
    if not text:
        errors[name] = MESSAGES[name]
    elif len(text) > limit:
        errors[name] = _too_long(name, limit)
    return text


def _is_spam(form: Mapping[str, object]) -> bool:
    return bool(clean_text(_first(form, HONEYPOT)))


def validate_signup(
    form: Mapping[str, str],
    *,
    moment: datetime | None = None,
    countries: tuple[str, ...] = FRENCH_REGIONS,
) -> FormOutcome:
    """Check a signup submission and build the `Inscriptions` row to store.

    `moment` (aware) is the submission time; the current Europe/Paris time by default.
    `countries`: the regions whose numbers may sign up (`Settings.limits.countries`).
    """
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    nom = _text_field(form, "nom", values, errors)
    entreprise = _text_field(form, "entreprise", values, errors)

    activite = clean_text(_first(form, "activite"))
    values["activite"] = activite
    if activite not in ACTIVITES:
        errors["activite"] = MESSAGES["activite"]

    typed_commune = _text_field(form, "commune", values, errors)
    commune_name = ""
    if "commune" not in errors:
        commune = match_commune(typed_commune)
        if commune is None:
            errors["commune"] = UNKNOWN_COMMUNE.format(
                commune=typed_commune, hint=MESSAGES["commune"]
            )
        else:
            commune_name = commune.nom
            values["commune"] = commune.nom

    telephone = _text_field(form, "telephone", values, errors)
    if "telephone" not in errors:
        result = parse_phone(telephone)
        if not result.ok:
            errors["telephone"] = _phone_error(result.numero, result.remarque, "signup")
        elif result.numero and not allowed_country(result.numero, countries):
            errors["telephone"] = foreign_phone_message(countries)

    consent = clean_text(_first(form, "consentement"))
    values["consentement"] = "oui" if consent == "oui" else ""
    if consent != "oui":
        errors["consentement"] = MESSAGES["consentement"]

    if _is_spam(form):
        return FormOutcome(values=values, is_spam=True)
    if errors:
        return FormOutcome(values=values, errors=errors)
    stamp = dates.format_iso(moment or dates.now())
    row = {
        "horodatage": stamp,
        "source": SOURCE_FORMULAIRE,
        "nom": neutralise(nom),
        "entreprise": neutralise(entreprise),
        "activite": neutralise(activite),
        "commune": neutralise(commune_name),
        "telephone": neutralise(telephone),
        "consentement": f"{CONSENT_VERSION} {stamp}",
    }
    return FormOutcome(values=values, row=row)


def validate_unsubscribe(
    form: Mapping[str, str], *, moment: datetime | None = None
) -> FormOutcome:
    """Check an unsubscribe request and build the `Desinscriptions` row to store.

    Any number that exists is accepted (even a landline): whether it was registered is decided
    later by the sender and never revealed to the person filling the form.
    """
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    telephone = clean_text(_first(form, "telephone"))
    values["telephone"] = telephone
    limit = MAX_LENGTHS["telephone"]
    if not telephone:
        errors["telephone"] = MESSAGES["telephone_desinscription"]
    elif len(telephone) > limit:
        errors["telephone"] = _too_long("telephone", limit)
    else:
        result = parse_phone(telephone)
        if result.numero is None:
            errors["telephone"] = _phone_error(None, result.remarque, "unsubscribe")
    if _is_spam(form):
        return FormOutcome(values=values, is_spam=True)
    if errors:
        return FormOutcome(values=values, errors=errors)
    row = {
        "horodatage": dates.format_iso(moment or dates.now()),
        "telephone": neutralise(telephone),
        "source": SOURCE_FORMULAIRE,
        "traite": "",
    }
    return FormOutcome(values=values, row=row)
