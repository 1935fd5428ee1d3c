"""`apps-script/Code.gs` is the same intake as the Python one, run under Node.

Node loads `generated.gs` and `Code.gs` with fakes of SpreadsheetApp, LockService, HtmlService and
Utilities (support/appsscript/harness.js); every case of the shared table (support/formcases.py)
goes through both intakes, which must answer the same messages and store the same rows. The phone
and commune rules are also compared one by one on thousands of inputs: every region's example
numbers from phonenumbers, typed as people type them, and random hostile strings.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from sender import schema
from sender.domain.communes import match_commune, name_index
from sender.domain.phones import allowed_country, parse_phone
from sender.intake import appsscript
from sender.intake.validation import (
    clean_text,
    foreign_phone_message,
    validate_signup,
    validate_unsubscribe,
)
from sender.limits import FRENCH_REGIONS
from sender.register.sqlite import SQLiteRegister
from support.formcases import CASES, MOMENT
from support.unavailable import unavailable

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "support" / "appsscript" / "harness.js"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        message = "Node.js absent : apt-get install nodejs (fait par .ci/run)"
        unavailable(message)
    return node


def run_script(payload: dict[str, Any]) -> dict[str, Any]:
    result = subprocess.run(
        [_node(), str(HARNESS)],
        input=json.dumps(payload, ensure_ascii=False),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def script() -> dict[str, Any]:
    cases = [{"kind": case.kind, "form": case.form} for case in CASES]
    return run_script({"moment": MOMENT.isoformat(), "cases": cases})


def python_intake(case, tmp_path: Path) -> tuple[dict[str, str], dict[str, str] | None,
                                                 dict[str, str] | None]:
    """Errors, row and stored row of the Python intake (stored through the SQLite register)."""
    validate = validate_signup if case.kind == "inscription" else validate_unsubscribe
    outcome = validate(case.form, moment=MOMENT)
    if outcome.row is None:
        return outcome.errors, None, None
    tab = schema.INSCRIPTIONS if case.kind == "inscription" else schema.DESINSCRIPTIONS
    with SQLiteRegister(tmp_path / f"{abs(hash(case.label))}.sqlite") as register:
        register.initialise()
        register.append(tab, [outcome.row])
        (row,) = register.read([tab])[tab].rows
    return outcome.errors, outcome.row, dict(row.values)


def test_generated_file_is_up_to_date():
    committed = (ROOT / appsscript.OUTPUT).read_text("utf-8")
    assert committed == appsscript.source(), (
        "apps-script/generated.gs est périmé : lancez « alerte-message script-google »"
    )


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(CASES)), ids=[c.label for c in CASES])
def test_same_messages_and_same_stored_rows(index: int, script, tmp_path: Path):
    case = CASES[index]
    errors, row, stored = python_intake(case, tmp_path)
    answer = script["cases"][index]
    assert answer["errors"] == errors
    assert answer["row"] == row
    assert (row is not None) == case.accepted
    if stored is None:
        assert answer["stored"] == []
        assert "Votre demande" in answer["html"]
        return
    header, values = answer["stored"]
    assert {h: str(v) for h, v in zip(header, values, strict=True)} == stored
    assert header == list(schema.COLUMNS[schema.INSCRIPTIONS if case.kind == "inscription"
                                         else schema.DESINSCRIPTIONS])
    assert answer["log"] == ["waitLock 20000", "flush", "releaseLock"]


@pytest.mark.slow
def test_refusal_lists_the_same_french_messages(script):
    index = next(i for i, c in enumerate(CASES) if c.label == "British landline")
    answer = script["cases"][index]
    assert answer["title"].startswith("Formulaire à corriger")
    message = answer["errors"]["telephone"]
    assert message.startswith("Ce numéro n’est pas un mobile\u00a0: numéro de ligne fixe")
    assert f"<li>{message}</li>" in answer["html"]


@pytest.mark.slow
def test_the_landing_leaves_googles_frame(script):
    index = next(i for i, c in enumerate(CASES) if c.label == "ordinary sign-up")
    html = script["cases"][index]["html"]
    thanks = "https://alerte-message.cma-lozere.fr/merci-inscription/"
    assert f'<a href="{thanks}" target="_top">' in html
    assert '<base target="_top">' in html
    assert f"window.top.location.replace({json.dumps(thanks)})" in html
    assert 'http-equiv="refresh"' not in html  # a refresh would only move Google's frame
    assert 'target="_top"' in script["doGet"]["html"]


@pytest.mark.slow
def test_honeypot_answers_thanks_and_stores_nothing(script):
    index = next(i for i, c in enumerate(CASES) if c.label == "honeypot filled")
    answer = script["cases"][index]
    assert answer["isSpam"] and answer["stored"] == [] and answer["log"] == []
    assert answer["title"].startswith("Demande enregistrée")


def test_busy_lock_stores_nothing_and_says_so():
    case = next(c for c in CASES if c.label == "ordinary sign-up")
    answer = run_script({
        "moment": MOMENT.isoformat(),
        "cases": [{"kind": case.kind, "form": case.form, "lockFails": True}],
    })["cases"][0]
    assert answer["stored"] == []
    assert "très sollicité" in answer["html"] and "Rien n’a été enregistré" in answer["html"]


@pytest.mark.slow
def test_next_id_follows_the_ids_already_in_the_tab():
    case = next(c for c in CASES if c.label == "ordinary sign-up")
    header = list(schema.COLUMNS[schema.INSCRIPTIONS])
    tabs = {schema.INSCRIPTIONS: [header, ["7"], ["'12"], ["texte"]]}
    answer = run_script({
        "moment": MOMENT.isoformat(),
        "cases": [{"kind": case.kind, "form": case.form, "tabs": tabs}],
    })["cases"][0]
    assert answer["stored"][-1][0] == 13


# -- the rules one by one ----------------------------------------------------------------------


def _spellings(number: phonenumbers.PhoneNumber) -> list[str]:
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return [international, e164, national, "00" + e164[1:], international.replace(" ", ".")]


def phone_inputs() -> list[str]:
    """Example numbers of every region and type in several spellings, then hostile strings."""
    inputs: list[str] = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE,
                     PhoneNumberType.TOLL_FREE, PhoneNumberType.VOIP,
                     PhoneNumberType.PREMIUM_RATE, PhoneNumberType.PAGER,
                     PhoneNumberType.UAN, PhoneNumberType.SHARED_COST):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                inputs += _spellings(example)
    for code in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            inputs += _spellings(example)
    rng = random.Random(48)
    alphabet = "0123456789" * 4 + "+ .-/()()#,;~*x" + "０１６７٠٦" + "\u200b\u202e\u00a0\u0085é"
    for _ in range(3000):
        inputs.append("".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 20))))
    for _ in range(1500):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randrange(7, 14)))
        prefix = rng.choice(["", "+", "00", "+33 ", "0", "tel:", "+3", "+1", "+44 ", "+262 "])
        inputs.append(prefix + " ".join(digits[i:i + 2] for i in range(0, len(digits), 2)))
    return inputs


@pytest.mark.slow
def test_phone_rules_match_on_thousands_of_inputs():
    inputs = phone_inputs()
    answers = run_script({"moment": MOMENT.isoformat(), "phones": inputs})["phones"]
    differences = []
    for raw, answer in zip(inputs, answers, strict=True):
        result = parse_phone(clean_text(raw))
        expected = {"numero": result.numero, "ok": result.ok, "remarque": result.remarque}
        if answer != expected:
            differences.append((raw, expected, answer))
    assert len(inputs) > 5000
    assert not differences, differences[:10]


def test_commune_rules_match_for_every_known_name():
    names = list(name_index())
    official = [c.nom for c in map(match_commune, names) if c is not None]
    variants = [n.upper() for n in official] + [n.replace("Saint-", "St ") for n in official]
    variants += ["48000 Mende", "Mende (48)", "Florac", "St", "Le", "", "  ", "Paris", "Mende-"]
    inputs = names + official + variants
    answers = run_script({"moment": MOMENT.isoformat(), "communes": inputs})["communes"]
    expected = [(c.nom if (c := match_commune(name)) else None) for name in inputs]
    assert answers == expected


def _country_inputs() -> list[str]:
    """Every region's example numbers of each type, as E.164."""
    numbers = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE,
                     PhoneNumberType.FIXED_LINE_OR_MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                numbers.add(phonenumbers.format_number(example, PhoneNumberFormat.E164))
    return sorted(numbers)


def test_country_rule_matches_for_every_regions_examples():
    """The Python intake and `Code.gs` agree on which numbers French operators issued (the
    default ALERTE_PAYS), on every region's example numbers (+262 is La Réunion or Mayotte,
    +590 Guadeloupe, Saint-Barthélemy or Saint-Martin…)."""
    inputs = _country_inputs()
    answers = run_script({"moment": MOMENT.isoformat(), "countries": inputs})["countries"]
    expected = [allowed_country(numero, FRENCH_REGIONS) for numero in inputs]
    assert len(inputs) > 400 and sum(expected) >= 12
    assert answers == expected


def test_the_country_list_goes_into_generated_gs(tmp_path: Path):
    """`script-google` with ALERTE_PAYS=FR,BE writes a script that accepts Belgian mobiles and
    refuses Réunion ones, with the same French message as the Python intake."""
    countries = ("FR", "BE")
    path = tmp_path / "generated.gs"
    appsscript.write(path, countries)
    assert '"countries":["FR","BE"]' in path.read_text("utf-8")
    form = {**CASES[0].form, "telephone": "+262 692 12 34 56"}
    python = validate_signup(form, moment=MOMENT, countries=countries).errors
    assert python["telephone"] == foreign_phone_message(countries)
    assert validate_signup({**form, "telephone": "+32 470 12 34 56"}, moment=MOMENT,
                           countries=countries).errors == {}
