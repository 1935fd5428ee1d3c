"""The Apps Script intake's rules, generated from this package: one source for both intakes.

`apps-script/Code.gs` holds the logic of the static-host intake (validation, storing, pages) as
a port of `validation.py`, `domain/phones.py` and `domain/communes.py`; everything that is
data comes from here, written to `apps-script/generated.gs` by `alerte-message script-google`:
the messages and their patterns, the trades, the commune index (current, former and delegated
names), the columns, the cleaning tables (invisible characters, Python's white space, combining
marks, digit values), the regular expressions of the phone rules and the numbering plans of
`phonenumbers` (every region: prefixes, possible lengths, number-type patterns). `make test`
runs `Code.gs` under Node against the same table of sign-ups as the Python intake and checks
that `generated.gs` is up to date.

Python regular expressions are translated for JavaScript's `u` mode: `\\d` is `\\p{Nd}` (Python
matches every decimal digit), `\\w` is `[\\p{L}\\p{N}_]` and `[^\\W\\d_]` (a letter, in Python's
sense) is `[\\p{L}\\p{Nl}\\p{No}]`.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path
from typing import Any, Final

import phonenumbers
import phonenumbers.phonenumberutil as pnu
from phonenumbers import PhoneMetadata, PhoneNumberType

from sender import schema
from sender.domain import phones
from sender.domain.communes import ABBREVIATIONS, name_index
from sender.intake import validation
from sender.limits import FRENCH_REGIONS
from sender.schema import ACTIVITES, SOURCE_FORMULAIRE

OUTPUT: Final = Path("apps-script") / "generated.gs"
_TYPES: Final = (
    ("premium_rate", PhoneNumberType.PREMIUM_RATE),
    ("toll_free", PhoneNumberType.TOLL_FREE),
    ("shared_cost", PhoneNumberType.SHARED_COST),
    ("voip", PhoneNumberType.VOIP),
    ("personal_number", PhoneNumberType.PERSONAL_NUMBER),
    ("pager", PhoneNumberType.PAGER),
    ("uan", PhoneNumberType.UAN),
    ("voicemail", PhoneNumberType.VOICEMAIL),
    ("fixed_line", PhoneNumberType.FIXED_LINE),
    ("mobile", PhoneNumberType.MOBILE),
)
_TYPE_NAMES: Final = {
    PhoneNumberType.MOBILE: "MOBILE",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "FIXED_LINE_OR_MOBILE",
    PhoneNumberType.UNKNOWN: "UNKNOWN",
    **{kind: name.upper() for name, kind in _TYPES},
}


def js_pattern(pattern: str) -> str:
    """A Python regular expression as JavaScript source for the `u` flag."""
    return (
        pattern.replace("(?u)", "")
        .replace(r"[^\W\d_]", r"[\p{L}\p{Nl}\p{No}]")
        .replace(r"[^#\w]", r"[^#\p{L}\p{N}_]")
        .replace(r"\D", r"\P{Nd}")
        .replace(r"\d", r"\p{Nd}")
    )


def _ranges(codepoints: list[int]) -> list[list[int]]:
    runs: list[list[int]] = []
    for cp in codepoints:
        if runs and runs[-1][1] == cp - 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    return runs


def _class(codepoints: list[int]) -> str:
    """A JavaScript character class (`u` flag) for these code points."""
    def char(cp: int) -> str:
        return f"\\u{{{cp:x}}}"

    parts = [
        char(a) if a == b else f"{char(a)}-{char(b)}" for a, b in _ranges(sorted(codepoints))
    ]
    return "[" + "".join(parts) + "]"


def _unicode_tables() -> dict[str, Any]:
    everything = range(sys.maxunicode + 1)
    combining = [cp for cp in everything if unicodedata.combining(chr(cp))]
    spaces = [cp for cp in everything if chr(cp).isspace()]
    digits: list[list[int]] = []  # [first code point, last, value of the first]
    for cp in everything:
        value = unicodedata.digit(chr(cp), None)
        if value is None:
            continue
        last = digits[-1] if digits else None
        if last and last[1] == cp - 1 and last[2] + (cp - last[0]) == value:
            last[1] = cp
        else:
            digits.append([cp, cp, value])
    return {
        "combining": _class(combining),
        "pythonSpace": _class(spaces),
        "invisible": _class([ord(c) for c in validation.INVISIBLE]),
        "digitValues": digits,
    }


def _desc(desc: Any) -> list[Any] | None:
    if desc is None or not desc.national_number_pattern:
        return None
    return [desc.national_number_pattern, list(desc.possible_length)]


def _metadata(meta: Any) -> dict[str, Any]:
    rule = meta.national_prefix_transform_rule
    general = meta.general_desc
    return {
        "cc": meta.country_code,
        "idd": meta.international_prefix,
        "npp": meta.national_prefix_for_parsing,
        "npt": rule.replace("\\", "$") if rule else None,
        "leading": meta.leading_digits,
        "same": bool(meta.same_mobile_and_fixed_line_pattern),
        "general": [
            general.national_number_pattern,
            list(general.possible_length),
            list(general.possible_length_local_only),
        ],
        "types": {name: _desc(getattr(meta, name)) for name, _ in _TYPES},
    }


def _phone_rules() -> dict[str, Any]:
    regions: dict[str, Any] = {}
    for code, names in pnu.COUNTRY_CODE_TO_REGION_CODE.items():
        for region in names:
            meta = PhoneMetadata.metadata_for_region_or_calling_code(code, region)
            if meta is not None:
                key = f"001:{code}" if region == pnu.REGION_CODE_FOR_NON_GEO_ENTITY else region
                regions[key] = _metadata(meta)
    return {
        "version": phonenumbers.__version__,
        "defaultRegion": phones.DEFAULT_REGION,
        "countryRegions": {str(k): list(v) for k, v in pnu.COUNTRY_CODE_TO_REGION_CODE.items()},
        "regions": regions,
        "maxInput": pnu._MAX_INPUT_STRING_LENGTH,
        "minNsn": pnu._MIN_LENGTH_FOR_NSN,
        "maxNsn": pnu._MAX_LENGTH_FOR_NSN,
        "maxCountryCode": pnu._MAX_LENGTH_COUNTRY_CODE,
        "patterns": {
            # phonenumbers: where a number starts and ends, extensions, « + » signs
            "validStart": js_pattern(pnu._VALID_START_CHAR),
            "unwantedEnd": js_pattern(pnu._UNWANTED_END_CHARS),
            "secondNumber": js_pattern(pnu._SECOND_NUMBER_START),
            "validPhone": js_pattern(pnu._VALID_PHONE_NUMBER + "(?:"
                                     + pnu._EXTN_PATTERNS_FOR_PARSING + ")?"),
            "extension": js_pattern("(?:" + pnu._EXTN_PATTERNS_FOR_PARSING + ")$"),
            "plus": "[" + pnu._PLUS_CHARS + "]+",
            "alphaPhone": pnu._VALID_ALPHA_PHONE_PATTERN.pattern,
            # sender.domain.phones: how people type numbers
            "prefix": js_pattern(phones._PREFIX.pattern),
            "annotation": js_pattern(phones._ANNOTATION.pattern),
            "trailingText": js_pattern(phones._TRAILING_TEXT.pattern),
            "zeroInParens": js_pattern(phones._ZERO_IN_PARENS.pattern),
            "simple": js_pattern(phones._SIMPLE.pattern),
            "anyLetter": js_pattern(phones._ANY_LETTER.pattern),
        },
        "remarks": phones.REMARKS,
        "typeReasons": {_TYPE_NAMES[k]: v for k, v in phones.TYPE_REASONS.items()},
        "accepted": sorted(_TYPE_NAMES[k] for k in phones._ACCEPTED_TYPES),
    }


def rules(countries: tuple[str, ...] = FRENCH_REGIONS) -> dict[str, Any]:
    """Everything `Code.gs` needs that is data, as one JSON-able mapping; `countries`: the
    regions whose numbers may sign up (ALERTE_PAYS)."""
    return {
        "countries": list(countries),
        "foreignPhone": validation.foreign_phone_message(countries),
        "consentVersion": validation.CONSENT_VERSION,
        "honeypot": validation.HONEYPOT,
        "source": SOURCE_FORMULAIRE,
        "columns": {
            "inscription": list(schema.COLUMNS[schema.INSCRIPTIONS]),
            "desinscription": list(schema.COLUMNS[schema.DESINSCRIPTIONS]),
        },
        "tabs": {"inscription": schema.INSCRIPTIONS, "desinscription": schema.DESINSCRIPTIONS},
        "maxLengths": validation.MAX_LENGTHS,
        "labels": validation.LABELS,
        "messages": validation.MESSAGES,
        "tooLong": validation.TOO_LONG,
        "unknownCommune": validation.UNKNOWN_COMMUNE,
        "phoneError": validation.PHONE_ERROR,
        "phoneStarts": validation.PHONE_STARTS,
        "phoneHints": validation.PHONE_HINTS,
        "example": validation.EXAMPLE,
        "activites": list(ACTIVITES),
        "communes": name_index(),
        "abbreviations": ABBREVIATIONS,
        "unicode": _unicode_tables(),
        "phone": _phone_rules(),
    }


HEADER: Final = """\
// Alerte Message – données du script de réception des formulaires.
// FICHIER GÉNÉRÉ par « alerte-message script-google » à partir du programme Python
// (sender/intake/validation.py, sender/domain/phones.py, la liste des communes, phonenumbers) :
// ne le modifiez pas à la main. Copiez-le dans le projet Apps Script à côté de Code.gs.
"""


def source(countries: tuple[str, ...] = FRENCH_REGIONS) -> str:
    """The text of `generated.gs`."""
    data = json.dumps(
        rules(countries), ensure_ascii=False, separators=(",", ":"), sort_keys=True
    )
    return f"{HEADER}var GENERATED = {data};\n"


def write(path: Path = OUTPUT, countries: tuple[str, ...] = FRENCH_REGIONS) -> bool:
    """Write `generated.gs`; True when its content changed."""
    text = source(countries)
    try:
        if path.read_text("utf-8") == text:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return True
