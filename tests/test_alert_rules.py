"""Rules applied to an `Alertes` row before broadcast (sender/alerts/rules.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sender.alerts.model import Officer, Verdict, normalise_precision, normalise_type
from sender.alerts.officers import active_officers
from sender.alerts.rules import check_alert
from sender.dates import PARIS

NOW = datetime(2026, 11, 29, 15, 0, tzinfo=PARIS)
OFFICERS = active_officers(
    [
        {"identifiant": "G1234", "nom": "Martin", "service": "Gendarmerie de Marvejols",
         "actif": "oui"},
        {"identifiant": "P77", "nom": "Durand", "service": "Police nationale Mende", "actif": "x"},
        {"identifiant": "G9999", "nom": "Ancien", "service": "Gendarmerie", "actif": "non"},
    ]
)


def incident(**changes: str) -> dict[str, str]:
    row = {
        "id": "2026-042",
        "saisie_le": "29/11/2026 14:30",
        "service": "Gendarmerie de Marvejols",
        "agent": "G1234",
        "type": "vol",
        "precision": "",
        "faits_le": "29/11/2026 14:05",
        "signale_le": "29/11/2026 14:20",
        "commune": "Marvejols",
        "lieu": "boulangerie, avenue de Brazza",
        "description": "Vol de la caisse pendant que la vendeuse servait un client",
        "auteurs": "homme 30 ans, casquette rouge",
        "vehicule": "Clio grise",
        "cible_zone": "",
        "cible_communes": "",
        "cible_activites": "",
        "statut": "à diffuser",
    }
    row.update(changes)
    return row


def prevention(**changes: str) -> dict[str, str]:
    row = {
        "id": "2026-043",
        "saisie_le": "29/11/2026 10:00",
        "agent": "P77",
        "type": "prévention",
        "description": "Des faux policiers démarchent les commerces : demandez la carte.",
        "statut": "à diffuser",
    }
    row.update(changes)
    return row


def check(row: dict[str, object], now: datetime = NOW, **kwargs: object) -> Verdict:
    return check_alert(row, officers=OFFICERS, now=now, **kwargs)


# -- vocabulary ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("vol", "vol"), ("Vol", "vol"), ("VOLS", "vol"), (" vol ", "vol"),
        ("tentative de vol", "vol"), ("Tentative de vol", "vol"), ("vol à l'étalage", "vol"),
        ("agression", "agression"), ("Agressions", "agression"), ("aggression", "agression"),
        ("tentative d'agression", "agression"),
        ("cambriolage", "cambriolage"), ("CAMBRIOLAGES", "cambriolage"),
        ("tentative de cambriolage", "cambriolage"),
        ("escroquerie", "escroquerie"), ("Escroqueries", "escroquerie"),
        ("ESCROQUERIE", "escroquerie"), ("arnaque", "escroquerie"),
        ("prevention", "prévention"), ("Prévention", "prévention"), ("PRÉVENTION", "prévention"),
        ("message de prévention", "prévention"),
    ],
)
def test_type_spellings(typed: str, expected: str) -> None:
    assert normalise_type(typed) == expected


@pytest.mark.parametrize("typed", ["", "   ", "volz", "incendie", "tentative", "x" * 10_000, None])
def test_unknown_types(typed: str | None) -> None:
    assert normalise_type(typed) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("faux moyen de paiement", "faux moyen de paiement"),
        ("Faux billet", "faux moyen de paiement"), ("faux billets", "faux moyen de paiement"),
        ("chèque volé", "faux moyen de paiement"), ("cheque sans provision",
                                                     "faux moyen de paiement"),
        ("fausse carte", "faux moyen de paiement"), ("carte bancaire volée",
                                                      "faux moyen de paiement"),
        ("faux virement", "faux moyen de paiement"),
        ("fausse qualité", "fausse qualité"), ("Fausse qualite", "fausse qualité"),
        ("faux policier", "fausse qualité"), ("faux policiers", "fausse qualité"),
        ("faux agent EDF", "fausse qualité"), ("faux gendarme", "fausse qualité"),
        ("faux plombier", "fausse qualité"), ("fausse carte de police", "fausse qualité"),
        ("rendez-moi", "rendez-moi"), ("rendez moi", "rendez-moi"), ("Rendez-Moi", "rendez-moi"),
        ("rendez-moi la monnaie", "rendez-moi"), ("arnaque au rendez-moi", "rendez-moi"),
        ("autre", "autre"), ("Autres", "autre"), ("divers", "autre"),
    ],
)
def test_precision_spellings(typed: str, expected: str) -> None:
    assert normalise_precision(typed) == expected


@pytest.mark.parametrize("typed", ["", "faux", "bizarre", "x" * 100_000])
def test_unknown_precisions(typed: str) -> None:
    assert normalise_precision(typed) is None


# -- statut ----------------------------------------------------------------------------------


@pytest.mark.parametrize("statut", ["", "brouillon", "diffusée", "en cours", "refusée", "erreur",
                                    "à diffuser plus tard", "x" * 1_000_000])
def test_rows_not_waiting_are_ignored(statut: str) -> None:
    verdict = check(incident(statut=statut))
    assert verdict.status == "ignorée"
    assert verdict.motifs == [] and verdict.alert is None


def test_empty_rows_are_ignored() -> None:
    assert check({}).status == "ignorée"
    assert check(dict.fromkeys(incident(), "")).status == "ignorée"


@pytest.mark.parametrize("statut", ["à diffuser", "a diffuser", "À diffuser", "A DIFFUSER  ",
                                    " à diffuser\n", "À Diffuser"])
def test_statut_spellings(statut: str) -> None:
    assert check(incident(statut=statut)).status == "à diffuser"


# -- accepted rows ---------------------------------------------------------------------------


def test_valid_incident_is_accepted_with_a_checked_alert() -> None:
    verdict = check(incident(type="Escroqueries", precision="faux billet",
                             cible_zone="Gendarmerie", cible_communes="Mende; Chirac",
                             cible_activites="Tabac, presse\nBijouterie"))
    assert verdict.status == "à diffuser", verdict.motif
    alert = verdict.alert
    assert alert is not None and verdict.motifs == [] and verdict.motif == ""
    assert alert.type == "escroquerie" and alert.precision == "faux moyen de paiement"
    assert alert.faits_le == datetime(2026, 11, 29, 14, 5, tzinfo=PARIS)
    assert alert.commune is not None and alert.commune.code == "48092"
    assert alert.cible_zone == "gendarmerie"
    assert [c.nom for c in alert.cible_communes] == ["Mende", "Bourgs sur Colagne"]
    assert alert.cible_activites == ["Tabac", "presse", "Bijouterie"]
    assert alert.type_label == "Escroquerie"


def test_valid_prevention_needs_description_only() -> None:
    verdict = check({"statut": "à diffuser", "type": "Prevention", "agent": "p77",
                     "description": "Fermez la caisse."})
    assert verdict.status == "à diffuser", verdict.motif
    assert verdict.alert is not None and verdict.alert.type == "prévention"
    assert verdict.alert.service == "Police nationale Mende"  # from Habilitations


def test_prevention_has_no_timing_rule() -> None:
    verdict = check(prevention(faits_le="28/11/2026 08:00", signale_le="28/11/2026 18:00"))
    assert verdict.status == "à diffuser", verdict.motif


def test_officers_as_a_plain_set_of_identifiants() -> None:
    verdict = check_alert(incident(agent=" g1234 "), officers={"g1234"}, now=NOW)
    assert verdict.status == "à diffuser"


@pytest.mark.parametrize("actif", ["oui", "OUI", "Oui ", "vrai", "x", "X", "1", "true", "TRUE",
                                   "✓", "✔", "yes"])
def test_active_values(actif: str) -> None:
    officers = active_officers([{"identifiant": "A1", "actif": actif}])
    assert set(officers) == {"a1"}
    assert isinstance(officers["a1"], Officer)


@pytest.mark.parametrize("actif", ["", "non", "NON", "0", "faux", "false", "inactif", "✗"])
def test_inactive_values(actif: str) -> None:
    assert active_officers([{"identifiant": "A1", "actif": actif}]) == {}


def test_service_cell_wins_over_habilitations() -> None:
    verdict = check(incident(service="Brigade de Marvejols"))
    assert verdict.alert is not None and verdict.alert.service == "Brigade de Marvejols"


# -- dates -----------------------------------------------------------------------------------


def serial(moment: datetime) -> float:
    naive = moment.replace(tzinfo=None) - datetime(1899, 12, 30)
    return naive.days + naive.seconds / 86_400


@pytest.mark.parametrize(
    ("faits", "signale"),
    [
        ("29/11/2026 14:05", "29/11/2026 14:20"),
        ("29/11/2026 14h05", "29/11/2026 14h20"),
        ("29/11/26 14:05", "29/11/26 14 h 20"),
        ("2026-11-29T14:05:00", "2026-11-29 14:20"),
        ("2026-11-29T14:05:00+01:00", "2026-11-29T13:20:00Z"),
        (str(serial(datetime(2026, 11, 29, 14, 5))), str(serial(datetime(2026, 11, 29, 14, 20)))),
        (serial(datetime(2026, 11, 29, 14, 5)), serial(datetime(2026, 11, 29, 14, 20))),
        (f"{serial(datetime(2026, 11, 29, 14, 5))}".replace(".", ","), "29/11/2026 14:20"),
    ],
)
def test_date_formats(faits: object, signale: object) -> None:
    verdict = check(incident(faits_le=faits, signale_le=signale))  # type: ignore[arg-type]
    assert verdict.status == "à diffuser", verdict.motif
    assert verdict.alert is not None
    assert verdict.alert.faits_le == datetime(2026, 11, 29, 14, 5, tzinfo=PARIS)


def test_delay_motif_reads_as_the_officer_expects() -> None:
    verdict = check(incident(signale_le="29/11/2026 15:20"), now=NOW + timedelta(hours=1))
    assert verdict.status == "refusée"
    assert verdict.motifs == [
        "Délai dépassé : les faits du 29/11/2026 à 14h05 ont été signalés à 15h20, soit 1 h 15 "
        "après (la règle impose moins d'une heure)."
    ]


def test_delay_over_midnight_names_the_day() -> None:
    now = datetime(2026, 11, 30, 9, 0, tzinfo=PARIS)
    verdict = check(incident(faits_le="29/11/2026 23:30", signale_le="30/11/2026 08:00"), now)
    assert verdict.motif.startswith(
        "Délai dépassé : les faits du 29/11/2026 à 23h30 ont été signalés le 30/11/2026 à 08h00, "
        "soit 8 h 30 après"
    )


@pytest.mark.parametrize(
    ("faits", "signale", "accepted"),
    [
        ("29/11/2026 14:05", "29/11/2026 14:05", True),
        ("29/11/2026 14:05", "29/11/2026 15:04", True),
        ("29/11/2026 14:05:00", "29/11/2026 15:04:59", True),
        ("29/11/2026 14:05", "29/11/2026 15:05", False),  # exactly one hour: not « less than »
        ("29/11/2026 14:05", "29/11/2026 15:06", False),
    ],
)
def test_one_hour_boundary(faits: str, signale: str, accepted: bool) -> None:
    verdict = check(incident(faits_le=faits, signale_le=signale), now=NOW + timedelta(hours=1))
    assert (verdict.status == "à diffuser") is accepted, verdict.motif


# Spring forward: on 29/03/2026 clocks jump from 02:00 to 03:00.
# Fall back: on 25/10/2026 clocks go from 03:00 back to 02:00; 02:00–02:59 happen twice.
@pytest.mark.parametrize(
    ("faits", "signale", "accepted", "hint"),
    [
        ("29/03/2026 01:50", "29/03/2026 03:40", True, False),  # 1 h 50 on the clock, 50 min
        ("29/03/2026 01:30", "29/03/2026 03:29", True, False),  # 59 min
        ("29/03/2026 01:30", "29/03/2026 03:30", False, False),  # 60 min
        ("29/03/2026 01:00", "29/03/2026 03:10", False, False),  # 1 h 10
        ("25/10/2026 01:50", "25/10/2026 02:40", True, False),  # 02:40 read as the first one
        ("25/10/2026 02:30", "25/10/2026 02:50", True, False),
        ("25/10/2026 01:40", "25/10/2026 03:00", False, False),  # 1 h 20 on the clock, 2 h 20
        ("25/10/2026 02:30", "25/10/2026 03:10", False, True),  # 1 h 40, or 40 min if second
        ("2026-10-25T02:30+01:00", "25/10/2026 03:10", True, False),  # the second 02:30
        ("2026-10-25T02:30+02:00", "25/10/2026 03:10", False, False),  # explicitly the first
        ("25/10/2026 02:50", "25/10/2026 02:10", False, True),  # second 02:10 would be 20 min
    ],
)
def test_daylight_saving_changes(faits: str, signale: str, accepted: bool, hint: bool) -> None:
    now = parse_now(faits) + timedelta(hours=4)
    verdict = check(incident(faits_le=faits, signale_le=signale, saisie_le=""), now=now)
    assert (verdict.status == "à diffuser") is accepted, verdict.motif
    assert ("existe deux fois" in verdict.motif) is hint, verdict.motif


def parse_now(text: str) -> datetime:
    from sender.dates import parse_datetime

    moment = parse_datetime(text)
    assert moment is not None
    return moment


def test_spring_delay_motif_uses_real_time() -> None:
    now = datetime(2026, 3, 29, 6, 0, tzinfo=PARIS)
    verdict = check(
        incident(faits_le="29/03/2026 01:00", signale_le="29/03/2026 03:10", saisie_le=""), now
    )
    assert "soit 1 h 10 après" in verdict.motif


def test_autumn_ambiguity_hint_gives_the_fix() -> None:
    now = datetime(2026, 10, 25, 6, 0, tzinfo=PARIS)
    verdict = check(
        incident(faits_le="25/10/2026 02:30", signale_le="25/10/2026 03:10", saisie_le=""), now
    )
    assert "soit 1 h 40 après" in verdict.motif
    assert "2026-10-25T02:30+01:00" in verdict.motif


# -- every refusal motif ---------------------------------------------------------------------

LONG = "x" * 1001


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (incident(type=""), "Champ « type » vide : choisir vol, agression, cambriolage, "
                            "escroquerie ou prévention."),
        (incident(type="incendie"), "Type « incendie » inconnu : choisir vol, agression"),
        (incident(type="escroquerie"), "Précision manquante pour une escroquerie : remplir "
                                       "« precision » avec faux moyen de paiement, fausse qualité, "
                                       "rendez-moi ou autre."),
        (incident(type="escroquerie", precision="bizarre"), "Précision « bizarre » inconnue pour "
                                                            "une escroquerie : choisir faux moyen"),
        (incident(faits_le=""), "Champ « faits_le » vide : indiquer la date et l'heure des faits"),
        (incident(signale_le=""), "Champ « signale_le » vide : indiquer quand les faits ont été "
                                  "signalés au 17"),
        (incident(commune="", lieu=""), "Champs « commune » et « lieu » vides"),
        (incident(description=""), "Champ « description » vide : décrire les faits en quelques "
                                   "mots."),
        (incident(description="  \n "), "Champ « description » vide"),
        (prevention(description=""), "Champ « description » vide : rédiger le message de "
                                     "prévention."),
        (incident(faits_le="hier midi"), "Colonne « faits_le » : date illisible : « hier midi »"),
        (incident(signale_le="31/02/2026 14:00"), "Colonne « signale_le » : date impossible"),
        (incident(saisie_le="n'importe quoi"), "Colonne « saisie_le » : date illisible"),
        (incident(faits_le="01/01/1900 10:00"), "Colonne « faits_le » : date invraisemblable"),
        (incident(faits_le="29/11/2026"), "Colonne « faits_le » : heure manquante dans "
                                          "« 29/11/2026 »"),
        (incident(faits_le="46355"), "Colonne « faits_le » : heure manquante"),
        (incident(faits_le="1" * 500), "Colonne « faits_le » : date illisible"),
        (incident(signale_le="29/11/2026 13:00"), "Dates incohérentes : le signalement "
                                                  "(29/11/2026 à 13h00) est antérieur aux faits "
                                                  "(29/11/2026 à 14h05)"),
        (incident(faits_le="29/11/2026 15:30", signale_le="29/11/2026 15:40"),
         "Date dans le futur : « faits_le » vaut le 29/11/2026 à 15h30 alors qu'il est 15h00 le "
         "29/11/2026 ; corriger la date ou l'heure."),
        (incident(signale_le="29/11/2026 15:06"), "Date dans le futur : « signale_le »"),
        (incident(saisie_le="30/11/2026 15:00"), "Date dans le futur : « saisie_le »"),
        (incident(agent=""), "Champ « agent » vide : indiquer votre identifiant (onglet "
                             "Habilitations)."),
        (incident(agent="G4321"), "Agent « G4321 » absent de l'onglet Habilitations ou inactif."),
        (incident(agent="G9999"), "Agent « G9999 » absent de l'onglet Habilitations ou inactif."),
        (incident(faits_le="26/11/2026 14:05", signale_le="26/11/2026 14:20"),
         "Alerte trop ancienne : signalée le 26/11/2026 à 14h20, il y a 72 h (au-delà de 48 h, "
         "elle n'est plus diffusée). Si elle est toujours d'actualité, créer une nouvelle ligne"),
        (prevention(saisie_le="26/11/2026 10:00"), "Alerte trop ancienne : saisie le 26/11/2026 "
                                                   "à 10h00"),
        (incident(commune="Paris"), "Commune « Paris » inconnue en Lozère : vérifier "
                                    "l'orthographe"),
        (prevention(commune="Rodez"), "Commune « Rodez » inconnue en Lozère"),
        (incident(cible_communes="Mende, Toulouse, Chirac, Millau"),
         "Communes ciblées inconnues en Lozère : « Toulouse », « Millau » ; corriger "
         "« cible_communes »"),
        (incident(cible_communes="Mendes"), "Commune ciblée inconnue en Lozère : « Mendes »"),
        (incident(cible_zone="ville"), "Cible « ville » inconnue dans « cible_zone » : laisser "
                                       "vide ou choisir toutes, police ou gendarmerie."),
        (incident(cible_zone="police", cible_communes="Marvejols, Florac"),
         "Aucune commune de « cible_communes » n'est en zone police : personne ne recevrait"),
        (incident(description=LONG), "Champ « description » trop long : 1\u00a0001 caractères "
                                     "(1\u00a0000 au maximum) ; résumer les faits."),
        (incident(lieu="y" * 201), "Champ « lieu » trop long : 201 caractères (200 au maximum)."),
        (incident(auteurs="y" * 501), "Champ « auteurs » trop long"),
        (incident(precision="p" * 101), "Champ « precision » trop long"),
        (incident(cible_communes="Mende," * 161), "« cible_communes » liste 161 communes"),
    ],
)
def test_refusal_motifs(row: dict[str, str], expected: str) -> None:
    verdict = check(row)
    assert verdict.status == "refusée"
    assert verdict.alert is None
    assert any(m.startswith(expected) for m in verdict.motifs), verdict.motifs


def test_stale_hours_is_a_parameter() -> None:
    row = incident(faits_le="28/11/2026 14:05", signale_le="28/11/2026 14:20")
    assert check(row).status == "à diffuser"
    verdict = check(row, stale_hours=12)
    assert "au-delà de 12 h" in verdict.motif


def test_all_problems_are_reported_and_joined() -> None:
    row = incident(type="volz", faits_le="29/11/2026 12:05", agent="X", commune="Paris",
                   description="", cible_zone="partout")
    verdict = check(row)
    assert verdict.status == "refusée"
    assert len(verdict.motifs) == 6, verdict.motifs
    assert verdict.motif.count(" ; ") >= 5
    assert verdict.motif.startswith("Type « volz » inconnu")
    assert "Délai dépassé" in verdict.motif  # checked even when the type is unknown
    assert verdict.motif.endswith(".")


def test_clock_skew_of_five_minutes_is_tolerated() -> None:
    verdict = check(incident(faits_le="29/11/2026 14:50", signale_le="29/11/2026 15:04"))
    assert verdict.status == "à diffuser", verdict.motif


def test_precision_of_other_types_is_kept_as_typed() -> None:
    verdict = check(incident(precision="à l'étalage"))
    assert verdict.alert is not None and verdict.alert.precision == "à l'étalage"


def test_former_commune_names_are_matched() -> None:
    verdict = check(incident(commune="Chirac"))
    assert verdict.alert is not None and verdict.alert.commune is not None
    assert verdict.alert.commune.nom == "Bourgs sur Colagne"


def test_naive_now_is_read_as_paris_time() -> None:
    assert check(incident(), now=NOW.replace(tzinfo=None)).status == "à diffuser"


# -- hostile and huge values -----------------------------------------------------------------

MEGA = "A" * 1_000_000


@pytest.mark.parametrize("column", [*incident(), "inconnue"])
def test_megabyte_values_never_raise(column: str) -> None:
    verdict = check(incident(**{column: MEGA}))
    assert verdict.status in {"à diffuser", "refusée", "ignorée"}
    assert len(verdict.motif) < 2_000
    assert "erreur interne" not in verdict.motif


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\";\"clic\")", "+33 6 12", "@SUM(A1)",
                                   "<script>alert(1)</script>", "{{ 7*7 }} {% for x in y %}",
                                   "'; DROP TABLE--", "emoji 🚨 ok"])
def test_hostile_descriptions_are_kept_as_text(value: str) -> None:
    verdict = check(incident(description=value))
    assert verdict.status == "à diffuser", verdict.motif
    assert verdict.alert is not None
    assert verdict.alert.description.replace(" ", "") in value.replace(" ", "")


@pytest.mark.parametrize(
    ("value", "kept"),
    [("\x00\x07 bip \x1b[31m", "bip [31m"), ("\u202eenversé\u202c", "enversé"),
     ("a\tb\r\nc", "a b \nc")],
)
def test_control_characters_are_dropped(value: str, kept: str) -> None:
    verdict = check(incident(description=value))
    assert verdict.alert is not None and verdict.alert.description == kept


def test_non_text_cells_never_raise() -> None:
    row: dict[str, object] = dict(incident())
    row.update(agent=1234, commune=None, faits_le=float("nan"), signale_le=True, cible_zone=3.5)
    verdict = check(row)
    assert verdict.status == "refusée"
    assert "erreur interne" not in verdict.motif


_cells = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["à diffuser", "vol", "escroquerie", "prévention", "29/11/2026 14:05",
                     "25/10/2026 02:30", "46355.5", "Mende", "G1234", "police", "oui", ""]),
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(list(incident())), _cells))
def test_fuzzed_rows_always_get_a_verdict(row: dict[str, str]) -> None:
    row.setdefault("statut", "à diffuser")
    verdict = check(row)
    assert verdict.status in {"à diffuser", "refusée", "ignorée"}
    assert "erreur interne" not in verdict.motif
    if verdict.status == "refusée":
        assert verdict.motifs and verdict.alert is None
