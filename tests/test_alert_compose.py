"""Composing alert messages from the `Modeles` tab (sender/alerts/compose.py)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from sender.alerts.compose import Composer, TemplateProblem
from sender.alerts.model import Alert
from sender.alerts.officers import active_officers
from sender.alerts.rules import check_alert
from sender.alerts.sandbox import MAX_OUTPUT
from sender.channels.base import OutgoingMessage
from sender.dates import PARIS
from sender.errors import AlerteError
from sender.register.defaults import (
    SIGNATURE,
    WHATSAPP_BODIES,
    WHATSAPP_TEMPLATE,
    default_template_rows,
    whatsapp_text,
)
from sender.schema import ALERT_TYPES

NOW = datetime(2026, 11, 29, 15, 0, tzinfo=PARIS)
OFFICERS = active_officers(
    [{"identifiant": "G1234", "service": "Gendarmerie de Marvejols", "actif": "oui"}]
)
PRECISIONS = {"escroquerie": "faux policier", "vol": "", "agression": "", "cambriolage": "",
              "prévention": ""}


def make_alert(alert_type: str = "vol", **changes: str) -> Alert:
    row = {
        "id": "2026-042", "agent": "G1234", "type": alert_type,
        "precision": PRECISIONS.get(alert_type, ""), "faits_le": "29/11/2026 14:05",
        "signale_le": "29/11/2026 14:20", "commune": "Marvejols",
        "lieu": "avenue de Brazza", "description": "Deux hommes ont volé la caisse d'une "
        "boulangerie pendant que la vendeuse servait", "auteurs": "deux hommes, 25-30 ans",
        "vehicule": "Clio grise", "statut": "à diffuser",
    }
    if alert_type == "prévention":
        row.update(faits_le="", signale_le="", lieu="", auteurs="", vehicule="",
                   description="Des escrocs se présentent comme policiers et demandent la "
                   "caisse : exigez la carte et appelez le 17 en cas de doute")
    row.update(changes)
    verdict = check_alert(row, officers=OFFICERS, now=NOW)
    assert verdict.alert is not None, verdict.motif
    return verdict.alert


DEFAULTS = Composer(default_template_rows())


# -- the default templates -------------------------------------------------------------------


@pytest.mark.parametrize("alert_type", ALERT_TYPES)
@pytest.mark.parametrize("channel", ["sms", "whatsapp", "outbox"])
def test_every_default_template_composes(alert_type: str, channel: str) -> None:
    composed = DEFAULTS.compose(make_alert(alert_type), channel)
    assert composed.text and "{" not in composed.text and "None" not in composed.text
    assert "  " not in composed.text and " ." not in composed.text
    assert composed.language == "fr"
    if channel == "whatsapp":
        assert composed.template in {"alerte_commercants", "prevention_commercants"}
        assert composed.parameters
        for value in composed.parameters.values():
            assert value and "\n" not in value and "\t" not in value and len(value) <= 1024
    else:
        assert composed.template is None and composed.parameters == {}
        assert composed.sms.segments >= 1


def test_default_sms_reads_well() -> None:
    composed = DEFAULTS.compose(make_alert("escroquerie"), "sms")
    assert composed.text == (
        "ALERTE ESCROQUERIE (fausse qualité)\n"
        "Marvejols, avenue de Brazza, le 29/11/2026 à 14h05.\n"
        "Deux hommes ont volé la caisse d'une boulangerie pendant que la vendeuse servait. "
        "Auteur(s) : deux hommes, 25-30 ans. Véhicule : Clio grise.\n"
        "Soyez vigilants. Infos au 17.\n"
        "Gendarmerie de Marvejols\n"
        "Réseau Alerte Message"
    )
    assert composed.sms.encoding == "GSM-7"
    assert composed.sms.segments == 2


@pytest.mark.parametrize("alert_type", ALERT_TYPES)
def test_every_default_message_ends_with_the_network_signature(alert_type: str) -> None:
    alert = make_alert(alert_type)
    for channel in ("sms", "outbox"):
        assert DEFAULTS.compose(alert, channel).text.endswith("\n" + SIGNATURE)
    whatsapp = DEFAULTS.compose(alert, "whatsapp")
    text = whatsapp_text(whatsapp.template or "", whatsapp.parameters)
    assert text is not None and text.endswith("\n" + SIGNATURE)
    assert "{{" not in text and "-\n" not in text


def test_whatsapp_bodies_use_exactly_the_default_parameters() -> None:
    for row in default_template_rows():
        if row["canal"] != "whatsapp":
            continue
        names = [line.split(":", 1)[0] for line in row["texte"].splitlines()]
        body = WHATSAPP_BODIES[row["modele_whatsapp"]]
        assert re.findall(r"\{\{([a-z_]+)\}\}", body) == names
        # Meta refuses a body that starts or ends with a parameter.
        assert not body.startswith("{{") and not body.endswith("}}")


def test_production_guide_quotes_the_whatsapp_bodies_to_submit_to_meta() -> None:
    guide = (Path(__file__).resolve().parent.parent / "docs" / "production.md").read_text("utf-8")
    guide = "\n".join(line.strip() for line in guide.splitlines())  # code blocks in a list
    for name, body in WHATSAPP_BODIES.items():
        assert f"`{name}`" in guide
        assert body in guide, f"docs/production.md : corps du modèle {name} absent ou différent"


def test_whatsapp_text_is_what_the_member_reads() -> None:
    composed = DEFAULTS.compose(make_alert("vol", auteurs="", vehicule=""), "whatsapp")
    text = whatsapp_text(composed.template or "", composed.parameters)
    assert text == (
        "ALERTE : Vol\n"
        "Lieu : Marvejols, avenue de Brazza\n"
        "Moment : 29/11/2026 à 14h05\n"
        "Faits : Deux hommes ont volé la caisse d'une boulangerie pendant que la vendeuse servait\n"
        "Auteurs : non décrits\n"
        "Soyez vigilants. Ne répondez pas à ce message : tout renseignement au 17.\n"
        "Message de : Gendarmerie de Marvejols\n"
        "Réseau Alerte Message"
    )
    assert whatsapp_text("modele_inconnu", composed.parameters) is None


def test_default_whatsapp_parameters() -> None:
    composed = DEFAULTS.compose(make_alert("vol", auteurs="", vehicule=""), "whatsapp")
    assert composed.template == WHATSAPP_TEMPLATE
    assert composed.parameters == {
        "nature": "Vol",
        "lieu": "Marvejols, avenue de Brazza",
        "moment": "29/11/2026 à 14h05",
        "faits": "Deux hommes ont volé la caisse d'une boulangerie pendant que la vendeuse "
                 "servait",
        "auteurs": "non décrits",
        "service": "Gendarmerie de Marvejols",
    }
    assert composed.text.splitlines()[0] == "Nature : Vol"


def test_rendez_moi_and_autre_precisions_read_well() -> None:
    text = DEFAULTS.compose(make_alert("escroquerie", precision="rendez moi"), "sms").text
    assert text.startswith("ALERTE ESCROQUERIE (arnaque au rendez-moi)\n")
    text = DEFAULTS.compose(make_alert("escroquerie", precision="autre"), "sms").text
    assert text.startswith("ALERTE ESCROQUERIE\n")


def test_sms_segments_switch_to_ucs2_for_officer_text() -> None:
    short = DEFAULTS.compose(make_alert("prévention", description="Fermez la caisse."), "sms")
    assert (short.sms.encoding, short.sms.segments) == ("GSM-7", 1)
    accented = DEFAULTS.compose(make_alert("prévention", description="Soyez prêts : ça arrive."),
                                "sms")
    assert accented.sms.encoding == "UCS-2"



def test_typographic_apostrophes_are_straight_in_an_sms_only() -> None:
    alert = make_alert("vol", description="Un homme a volé la caisse d’une boulangerie",
                       auteurs="un homme d‘environ 30 ans")
    sms = DEFAULTS.compose(alert, "sms")
    assert "caisse d'une boulangerie" in sms.text and "d'environ" in sms.text
    assert "’" not in sms.text and "‘" not in sms.text
    assert sms.sms.encoding == "GSM-7"
    whatsapp = DEFAULTS.compose(alert, "whatsapp")
    assert "caisse d’une boulangerie" in whatsapp.parameters["faits"]

def test_empty_parameters_get_a_dash() -> None:
    rows = [{"type": "*", "canal": "whatsapp", "modele_whatsapp": "t", "texte": "a: {{ auteurs }}\n"
             "b: {{ description }}"}]
    composed = Composer(rows).compose(make_alert(auteurs=""), "whatsapp")
    assert composed.parameters["a"] == "-"


def test_parameters_are_cleaned_and_capped() -> None:
    rows = [{"type": "vol", "canal": "WhatsApp", "modele_whatsapp": "t",
             "texte": "p: x{{ '\t\t' }}y{{ '          ' }}z ~ {{ description ~ description }}"}]
    composed = Composer(rows).compose(make_alert(description="é" * 1000), "whatsapp")
    value = composed.parameters["p"]
    assert value.startswith("x y z ~ Éé") and len(value) == 1024 and value.endswith("…")


def test_to_message() -> None:
    composed = DEFAULTS.compose(make_alert(), "whatsapp")
    message = composed.to_message("2026-042", "+33612345678")
    assert isinstance(message, OutgoingMessage)
    assert message.template == WHATSAPP_TEMPLATE and message.numero == "+33612345678"
    assert message.parameters == composed.parameters and message.text == composed.text
    sms = DEFAULTS.compose(make_alert(), "sms").to_message("2026-042", "+33612345678")
    assert sms.template is None and sms.parameters == {}


# -- choosing the row ------------------------------------------------------------------------


def test_specific_row_wins_over_fallback() -> None:
    rows = [
        {"type": "*", "canal": "sms", "texte": "générique {{ type }}"},
        {"type": "Vols", "canal": "SMS", "texte": "spécifique {{ type }}"},
    ]
    composer = Composer(rows)
    assert composer.compose(make_alert("vol"), "sms").text == "spécifique Vol"
    assert composer.compose(make_alert("agression"), "outbox").text == "générique Agression"


def test_empty_type_is_a_fallback() -> None:
    composer = Composer([{"type": "", "canal": "sms", "texte": "tout {{ type }}"}])
    assert composer.compose(make_alert("cambriolage"), "sms").text == "tout Cambriolage"


def test_missing_template() -> None:
    composer = Composer([{"type": "vol", "canal": "sms", "texte": "x"}])
    with pytest.raises(TemplateProblem) as caught:
        composer.compose(make_alert("agression"), "whatsapp")
    assert isinstance(caught.value, AlerteError)
    assert caught.value.message == (
        "Aucun modèle pour le type « agression » et le canal whatsapp : ajouter une ligne dans "
        "l'onglet Modeles (type « agression » ou « * », canal « whatsapp »)."
    )


def test_unknown_channel_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        DEFAULTS.compose(make_alert(), "pigeon")


# -- template problems (sandbox escapes: tests/test_security_templates.py) ----------------


def test_syntax_error_message_names_type_canal_and_line() -> None:
    composer = Composer([{"type": "vol", "canal": "sms", "texte": "ligne 1\n{{ description }"}])
    with pytest.raises(TemplateProblem) as caught:
        composer.compose(make_alert(), "sms")
    assert caught.value.message.startswith("Modèle « vol » / sms : erreur de syntaxe ligne 2 (")
    assert caught.value.alert_type == "vol" and caught.value.canal == "sms"


def test_unknown_variable_is_named() -> None:
    composer = Composer([{"type": "vol", "canal": "sms", "texte": "{{ lieux }}"}])
    with pytest.raises(TemplateProblem, match="ligne 1 : variable inconnue « lieux »"):
        composer.compose(make_alert(), "sms")


def test_output_too_long() -> None:
    texte = "{{ description }}" * 10
    composer = Composer([{"type": "vol", "canal": "sms", "texte": texte}])
    with pytest.raises(TemplateProblem, match=f"plus de {MAX_OUTPUT} caractères"):
        composer.compose(make_alert(description="d" * 1000), "sms")


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"modele_whatsapp": "", "texte": "a: x"}, "colonne « modele_whatsapp » vide"),
        ({"modele_whatsapp": "Alerte Commerçants", "texte": "a: x"}, "nom de modèle WhatsApp"),
        ({"modele_whatsapp": "t", "texte": "a: x", "langue": "français"}, "langue « français »"),
        ({"modele_whatsapp": "t", "texte": "a: x\npas de deux-points"},
         "ligne 2 « pas de deux-points » : attendu « nom: expression »"),
        ({"modele_whatsapp": "t", "texte": "Nom Long: x"}, "ligne 1"),
        ({"modele_whatsapp": "t", "texte": "a: x\na: y"}, "ligne 2 : paramètre « a » en double"),
        ({"modele_whatsapp": "t", "texte": "\n# commentaire\n"}, "aucun paramètre"),
        ({"modele_whatsapp": "t", "texte": "a: ok\n\nb: {{ oups }}"},
         "variable inconnue « oups » (variables permises : id, type"),
        ({"modele_whatsapp": "t", "texte": "a: ok\nb: {{ x }"}, "erreur de syntaxe ligne 2"),
    ],
)
def test_whatsapp_row_problems(row: dict[str, str], expected: str) -> None:
    composer = Composer([{"type": "vol", "canal": "whatsapp", **row}])
    with pytest.raises(TemplateProblem) as caught:
        composer.compose(make_alert(), "whatsapp")
    assert expected in caught.value.message, caught.value.message


def test_allowed_constructs() -> None:
    texte = (
        "{% if type == 'Vol' and not auteurs %}A{% elif 'caisse' in description %}B"
        "{% else %}C{% endif %}|{{ commune|upper }}|{{ auteurs|default('inconnus') }}|"
        "{{ description|truncate(20) }}|{{ lieu|replace('avenue', 'av.') }}|"
        "{{ 'oui' if vehicule else 'non' }}|{{ faits_heure }}|{{ faits_date }}|{{ id }}"
        "{# commentaire #}"
    )
    composer = Composer([{"type": "vol", "canal": "sms", "texte": texte}])
    text = composer.compose(make_alert(auteurs=""), "sms").text
    assert text == (
        "A|MARVEJOLS|inconnus|Deux hommes ont…|av. de Brazza|oui|14h05|29/11/2026|2026-042"
    )


def test_a_problem_concerns_only_its_type_and_canal() -> None:
    composer = Composer([
        {"type": "vol", "canal": "sms", "texte": "{{ oups }}"},
        {"type": "*", "canal": "sms", "texte": "ok"},
        {"type": "n'importe", "canal": "sms", "texte": "ignorée"},
    ])
    problems = []
    for alert in (make_alert("vol"), make_alert("agression")):
        for channel in ("sms", "whatsapp"):
            try:
                composer.compose(alert, channel)
            except TemplateProblem as problem:
                problems.append(problem)
    assert [(p.alert_type, p.canal) for p in problems] == [
        ("vol", "sms"), ("vol", "whatsapp"), ("agression", "whatsapp"),
    ]
    assert composer.compose(make_alert("cambriolage"), "sms").text == "ok"


def test_formula_guard_added_by_the_register_is_not_sent():
    from sender.text import cell_text, neutralise

    stored = neutralise("=2 hommes armés")
    assert stored.startswith("'")
    assert cell_text(stored) == "=2 hommes armés"
    assert cell_text("'normal") == "'normal"


def test_a_stop_code_in_the_sms_template_is_refused() -> None:
    composer = Composer([{"type": "*", "canal": "sms",
                          "texte": "{{ description }} STOP au 36173"}])
    with pytest.raises(TemplateProblem, match="STOP au 36173") as caught:
        composer.compose(make_alert(), "sms")
    assert not caught.value.officer_text  # the template is wrong: statut « erreur »


def test_an_sms_beyond_four_parts_is_refused_with_the_officers_text_to_shorten() -> None:
    long_text = "Deux hommes se sont enfuis à pied vers la forêt, " * 4  # ê: UCS-2
    expected = r"ferait \d parties \(\d+ caractères UCS-2"
    with pytest.raises(TemplateProblem, match=expected) as caught:
        DEFAULTS.compose(make_alert(description=long_text), "sms")
    assert caught.value.officer_text and "raccourcir la description" in caught.value.message
    # the same description fits a WhatsApp parameter: only the SMS has the limit
    assert DEFAULTS.compose(make_alert(description=long_text), "whatsapp").parameters
