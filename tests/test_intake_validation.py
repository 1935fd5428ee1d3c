"""Validation of the public forms: French messages per field, safe rows, honeypot."""

import unicodedata
from datetime import datetime

import pytest

from sender.dates import PARIS
from sender.intake.validation import (
    INVISIBLE,
    MAX_LENGTHS,
    MESSAGES,
    clean_text,
    validate_signup,
    validate_unsubscribe,
)
from sender.schema import ACTIVITES, COLUMNS, DESINSCRIPTIONS, INSCRIPTIONS
from sender.text import is_formula
from support.formcases import CASES
from support.formcases import MOMENT as FORM_MOMENT
from support.formcases import SIGNUP_FORM as GOOD

MOMENT = datetime(2026, 3, 29, 3, 30, tzinfo=PARIS)  # just after the spring change


def _with(**changes):
    form = dict(GOOD)
    for key, value in changes.items():
        if value is None:
            form.pop(key, None)
        else:
            form[key] = value
    return form


def test_valid_signup_builds_the_inscriptions_row():
    outcome = validate_signup(GOOD, moment=MOMENT)
    assert outcome.row is not None and not outcome.errors and not outcome.is_spam
    assert outcome.row == {
        "horodatage": "2026-03-29T03:30:00+02:00",
        "source": "formulaire",
        "nom": GOOD["nom"],
        "entreprise": GOOD["entreprise"],
        "activite": GOOD["activite"],
        "commune": GOOD["commune"],
        "telephone": GOOD["telephone"],
        "consentement": "v1 2026-03-29T03:30:00+02:00",
    }
    assert set(outcome.row) <= set(COLUMNS[INSCRIPTIONS])


def test_default_moment_is_now_in_paris():
    row = validate_signup(GOOD).row
    assert row is not None
    stamp = datetime.fromisoformat(row["horodatage"])
    assert stamp.utcoffset() in (PARIS.utcoffset(stamp.replace(tzinfo=None)),)
    assert row["consentement"] == f"v1 {row['horodatage']}"


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"nom": ""}, "nom", MESSAGES["nom"]),
        ({"nom": None}, "nom", MESSAGES["nom"]),
        ({"nom": " \t\n "}, "nom", MESSAGES["nom"]),
        ({"nom": "\x00\x07\u200b"}, "nom", MESSAGES["nom"]),
        ({"entreprise": ""}, "entreprise", "Indiquez le nom de votre entreprise."),
        ({"activite": ""}, "activite", MESSAGES["activite"]),
        ({"activite": "Plombier"}, "activite", MESSAGES["activite"]),
        ({"activite": ACTIVITES[1].upper()}, "activite", MESSAGES["activite"]),
        (
            {"commune": ""},
            "commune",
            "Choisissez votre commune dans la liste des communes de Lozère.",
        ),
        ({"commune": "Paris"}, "commune", "Nous ne trouvons pas «\u00a0Paris\u00a0»"),
        ({"commune": "Paris"}, "commune", "la liste des communes de Lozère."),
        ({"telephone": ""}, "telephone", MESSAGES["telephone"]),
        ({"telephone": "04 66 49 12 34"}, "telephone", "Ce numéro n’est pas un mobile\u00a0:"),
        ({"telephone": "04 66 49 12 34"}, "telephone", "ligne fixe"),
        ({"telephone": "09 72 12 34 56"}, "telephone", "n’est pas un mobile"),
        ({"telephone": "08 00 12 34 56"}, "telephone", "numéro vert"),
        ({"telephone": "06 12 34"}, "telephone", "Ce numéro n’est pas valide\u00a0:"),
        ({"telephone": "bonjour"}, "telephone", "n’est pas valide"),
        ({"consentement": ""}, "consentement", "Cochez la case pour accepter"),
        ({"consentement": None}, "consentement", "Cochez la case pour accepter"),
        ({"consentement": "on"}, "consentement", "Cochez la case pour accepter"),
        ({"nom": "x" * 121}, "nom", "Le nom est trop long\u00a0: 120 caractères au maximum."),
        ({"entreprise": "x" * 151}, "entreprise", "150 caractères au maximum"),
        ({"commune": "x" * 121}, "commune", "trop long"),
        ({"telephone": "0" * 41}, "telephone", "trop long"),
    ],
)
def test_signup_errors_are_french_and_attached_to_the_field(changes, field, expected):
    outcome = validate_signup(_with(**changes), moment=MOMENT)
    assert outcome.row is None and not outcome.is_spam
    assert set(outcome.errors) == {field}
    assert expected in outcome.errors[field]


def test_every_error_at_once_and_values_kept():
    form = {"nom": "  Jeanne  ", "telephone": "04 66 49 12 34", "commune": "Atlantis"}
    outcome = validate_signup(form, moment=MOMENT)
    assert set(outcome.errors) == {
        "nom", "entreprise", "activite", "commune", "telephone", "consentement",
    } - {"nom"}
    assert outcome.values["nom"] == "Jeanne"
    assert outcome.values["telephone"] == "04 66 49 12 34"
    assert outcome.values["commune"] == "Atlantis"
    assert "site_web" not in outcome.values


@pytest.mark.parametrize(
    ("typed", "official"),
    [
        ("mende", "Mende"),
        ("ST CHELY D APCHER", "Saint-Chély-d'Apcher"),
        ("48100 Marvejols", "Marvejols"),
        ("  Langogne\n", "Langogne"),
    ],
)
def test_commune_is_stored_with_its_official_name(typed, official):
    outcome = validate_signup(_with(commune=typed), moment=MOMENT)
    assert outcome.row is not None
    assert outcome.row["commune"] == official
    assert outcome.values["commune"] == official


@pytest.mark.parametrize(
    "typed",
    ["0612345678", "+33 6 12 34 56 78", "06.12.34.56.78", "0033 7 81 23 45 67", "06-12-34-56-78"],
)
def test_telephone_is_stored_as_typed(typed):
    outcome = validate_signup(_with(telephone=typed), moment=MOMENT)
    assert outcome.row is not None, outcome.errors
    assert outcome.row["telephone"] == typed


@pytest.mark.parametrize(
    ("field", "hostile"),
    [
        ("nom", '=HYPERLINK("http://exemple.invalid","clic")'),
        ("nom", "+cmd|' /C calc'!A0"),
        ("entreprise", "@SUM(1+1)*cmd|' /C calc'!A0"),
        ("entreprise", "-2+3+cmd|' /C calc'!A0"),
        ("nom", "\t=1+1"),
        ("entreprise", "\r=1+1"),
    ],
)
def test_formula_text_is_neutralised(field, hostile):
    outcome = validate_signup(_with(**{field: hostile}), moment=MOMENT)
    assert outcome.row is not None, outcome.errors
    for value in outcome.row.values():
        assert not is_formula(value)
    assert outcome.row[field].startswith("'")


def test_control_and_invisible_characters_are_removed():
    outcome = validate_signup(
        _with(nom="Jea\x00nne\u202e \x1b[31mMartin\r\nfils", entreprise="Ate\u200blier\x7f"),
        moment=MOMENT,
    )
    assert outcome.row is not None
    assert outcome.row["nom"] == "Jeanne [31mMartin fils"
    assert outcome.row["entreprise"] == "Atelier"


def test_html_is_kept_as_text_not_interpreted():
    outcome = validate_signup(_with(nom="<script>alert(1)</script>"), moment=MOMENT)
    assert outcome.row is not None
    assert outcome.row["nom"] == "<script>alert(1)</script>"  # escaped when shown, never run


def test_repeated_keys_given_as_lists_take_the_first_value():
    form = _with(nom=["Jeanne", "Autre"], consentement=["oui", ""])
    outcome = validate_signup(form, moment=MOMENT)
    assert outcome.row is not None
    assert outcome.row["nom"] == "Jeanne"


@pytest.mark.parametrize("honeypot", ["http://spam.invalid", "x", "  a  "])
def test_honeypot_makes_spam_even_when_valid_or_invalid(honeypot):
    for form in (_with(site_web=honeypot), {"site_web": honeypot}):
        outcome = validate_signup(form, moment=MOMENT)
        assert outcome.is_spam and outcome.row is None
        assert not outcome.errors


def test_blank_honeypot_is_not_spam():
    assert validate_signup(_with(site_web="   "), moment=MOMENT).row is not None


def test_lengths_at_the_limit_are_accepted():
    outcome = validate_signup(
        _with(nom="n" * MAX_LENGTHS["nom"], entreprise="e" * MAX_LENGTHS["entreprise"]),
        moment=MOMENT,
    )
    assert outcome.row is not None


# -- unsubscribe ---------------------------------------------------------------------------


def test_valid_unsubscribe_builds_the_desinscriptions_row():
    outcome = validate_unsubscribe({"telephone": "06 12 34 56 78"}, moment=MOMENT)
    assert outcome.row is not None
    assert outcome.row == {
        "horodatage": "2026-03-29T03:30:00+02:00",
        "telephone": "06 12 34 56 78",
        "source": "formulaire",
        "traite": "",
    }
    # every column but `confirme_le`, which only the confirmation page fills
    assert set(outcome.row) == set(COLUMNS[DESINSCRIPTIONS]) - {"confirme_le"}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("", "Indiquez le numéro de mobile qui reçoit les alertes."),
        ("   ", "Indiquez le numéro de mobile qui reçoit les alertes."),
        ("pas de numéro", "Ce numéro n’est pas valide"),
        ("06 12", "Ce numéro n’est pas valide"),
        ("0" * 41, "trop long"),
    ],
)
def test_unsubscribe_errors(typed, expected):
    outcome = validate_unsubscribe({"telephone": typed}, moment=MOMENT)
    assert outcome.row is None
    assert expected in outcome.errors["telephone"]


@pytest.mark.parametrize("typed", ["04 66 49 12 34", "07 81 23 45 67", "+33612345678"])
def test_unsubscribe_accepts_any_existing_number(typed):
    # A landline could never have been registered, but saying so would reveal the register.
    assert validate_unsubscribe({"telephone": typed}, moment=MOMENT).row is not None


def test_unsubscribe_honeypot_and_formula():
    assert validate_unsubscribe({"telephone": "0612345678", "site_web": "x"}).is_spam
    outcome = validate_unsubscribe({"telephone": "=0612345678"}, moment=MOMENT)
    if outcome.row is not None:
        assert not is_formula(outcome.row["telephone"])


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (None, ""),
        (12, "12"),
        ("  a \t b \n c  ", "a b c"),
        ("e\u0301", "é"),  # NFC
        ("\u2028x\u2029", "x"),
        ("a\ud800b", "ab"),
    ],
)
def test_clean_text(raw, clean):
    assert clean_text(raw) == clean


# -- the table shared with the Apps Script intake (tests/test_apps_script.py) ------------------


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_shared_table_of_valid_and_hostile_submissions(case):
    validate = validate_signup if case.kind == "inscription" else validate_unsubscribe
    outcome = validate(case.form, moment=FORM_MOMENT)
    assert (outcome.row is not None) == case.accepted
    if outcome.row is None:
        assert outcome.is_spam or outcome.errors
        return
    for value in outcome.row.values():
        assert not any(
            ch in INVISIBLE or unicodedata.category(ch) in ("Cc", "Co", "Cs", "Zl", "Zp")
            for ch in value
        ), value
