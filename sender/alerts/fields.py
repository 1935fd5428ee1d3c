"""Checks of `Alertes` cells taken one by one: type and precision, required cells, lengths.

Each check takes the cleaned cell texts it needs and returns the French motifs it found (with the
normalised value when it reads one); `rules.py` runs them in the order an officer reads the row.
"""

from __future__ import annotations

from collections.abc import Mapping

from sender.alerts.model import PREVENTION, normalise_precision, normalise_type
from sender.schema import ALERT_TYPES, ESCROQUERIE_PRECISIONS
from sender.text import french_list, quote, thousands

MAX_DESCRIPTION = 1000
MAX_LENGTHS = {  # other free-text columns: a longer value is a mistake (paste, wrong column)
    "id": 100,
    "service": 120,
    "agent": 60,
    "precision": 100,
    "commune": 150,
    "lieu": 200,
    "auteurs": 500,
    "vehicule": 200,
    "cible_communes": 5000,
    "cible_activites": 2000,
}

_ALLOWED_TYPES = french_list(list(ALERT_TYPES))
_ALLOWED_PRECISIONS = french_list(list(ESCROQUERIE_PRECISIONS))


def check_type(typed: str) -> tuple[str | None, list[str]]:
    """The alert type (one of `ALERT_TYPES`) and the motifs when it is missing or unknown."""
    if not typed:
        return None, [f"Champ « type » vide : choisir {_ALLOWED_TYPES}."]
    found = normalise_type(typed)
    if found is None:
        return None, [f"Type {quote(typed, 40)} inconnu : choisir {_ALLOWED_TYPES}."]
    return found, []


def check_precision(alert_type: str | None, typed: str) -> tuple[str, list[str]]:
    """An escroquerie needs a known precision; other types keep the officer's free text."""
    if alert_type != "escroquerie":
        return typed, []  # shown in the message when given
    if not typed:
        return "", [
            "Précision manquante pour une escroquerie : remplir « precision » avec "
            f"{_ALLOWED_PRECISIONS}."
        ]
    found = normalise_precision(typed)
    if found is None:
        return "", [
            f"Précision {quote(typed, 40)} inconnue pour une escroquerie : choisir "
            f"{_ALLOWED_PRECISIONS}."
        ]
    return found, []


def check_required(alert_type: str | None, values: Mapping[str, str]) -> list[str]:
    """Cells that must be filled: the description always, dates and place for an incident."""
    motifs = []
    prevention = alert_type == PREVENTION
    if not values["description"]:
        what = "rédiger le message de prévention" if prevention else (
            "décrire les faits en quelques mots"
        )
        motifs.append(f"Champ « description » vide : {what}.")
    if alert_type is None or prevention:
        return motifs
    if not values["faits_le"]:
        motifs.append(
            "Champ « faits_le » vide : indiquer la date et l'heure des faits "
            "(ex. 29/11/2026 14:05)."
        )
    if not values["signale_le"]:
        motifs.append(
            "Champ « signale_le » vide : indiquer quand les faits ont été signalés au 17 "
            "(ex. 29/11/2026 14:20)."
        )
    if not values["commune"] and not values["lieu"]:
        motifs.append(
            "Champs « commune » et « lieu » vides : indiquer au moins la commune ou le lieu "
            "des faits."
        )
    return motifs


def check_lengths(values: Mapping[str, str], alert_type: str | None) -> list[str]:
    """Free-text cells longer than their limit."""
    motifs = []
    description = values["description"]
    if len(description) > MAX_DESCRIPTION:
        motifs.append(
            f"Champ « description » trop long : {thousands(len(description))} caractères "
            f"({thousands(MAX_DESCRIPTION)} au maximum) ; résumer les faits."
        )
    for column, limit in MAX_LENGTHS.items():
        if column == "precision" and alert_type == "escroquerie":
            continue  # an unknown precision is already reported
        if len(values[column]) > limit:
            motifs.append(
                f"Champ « {column} » trop long : {thousands(len(values[column]))} caractères "
                f"({thousands(limit)} au maximum)."
            )
    return motifs
