"""Checks of `Alertes` cells taken one by one: type and precision, required cells, lengths.

`FieldChecks` is a mixin of the row checker in `rules.py`: each check appends French motifs to
`self.motifs`.
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


class FieldChecks:
    """Vocabulary, required-cell and length checks (needs `motifs` and `raw_dates`)."""

    motifs: list[str]
    raw_dates: dict[str, str]

    # -- vocabulary ---------------------------------------------------------------------------

    def check_type(self, typed: str) -> str | None:
        if not typed:
            self.motifs.append(f"Champ « type » vide : choisir {_ALLOWED_TYPES}.")
            return None
        found = normalise_type(typed)
        if found is None:
            self.motifs.append(f"Type {quote(typed, 40)} inconnu : choisir {_ALLOWED_TYPES}.")
        return found

    def check_precision(self, alert_type: str | None, typed: str) -> str:
        if alert_type != "escroquerie":
            return typed  # free text for other types, shown in the message when given
        if not typed:
            self.motifs.append(
                "Précision manquante pour une escroquerie : remplir « precision » avec "
                f"{_ALLOWED_PRECISIONS}."
            )
            return ""
        found = normalise_precision(typed)
        if found is None:
            self.motifs.append(
                f"Précision {quote(typed, 40)} inconnue pour une escroquerie : choisir "
                f"{_ALLOWED_PRECISIONS}."
            )
            return ""
        return found

    # -- presence and size --------------------------------------------------------------------

    def check_required(self, alert_type: str | None, values: Mapping[str, str]) -> None:
        prevention = alert_type == PREVENTION
        if not values["description"]:
            what = "rédiger le message de prévention" if prevention else (
                "décrire les faits en quelques mots"
            )
            self.motifs.append(f"Champ « description » vide : {what}.")
        if alert_type is None or prevention:
            return
        if not self.raw_dates["faits_le"]:
            self.motifs.append(
                "Champ « faits_le » vide : indiquer la date et l'heure des faits "
                "(ex. 29/11/2026 14:05)."
            )
        if not self.raw_dates["signale_le"]:
            self.motifs.append(
                "Champ « signale_le » vide : indiquer quand les faits ont été signalés au 17 "
                "(ex. 29/11/2026 14:20)."
            )
        if not values["commune"] and not values["lieu"]:
            self.motifs.append(
                "Champs « commune » et « lieu » vides : indiquer au moins la commune ou le lieu "
                "des faits."
            )

    def check_lengths(self, values: Mapping[str, str], alert_type: str | None) -> None:
        description = values["description"]
        if len(description) > MAX_DESCRIPTION:
            self.motifs.append(
                f"Champ « description » trop long : {thousands(len(description))} caractères "
                f"({thousands(MAX_DESCRIPTION)} au maximum) ; résumer les faits."
            )
        for column, limit in MAX_LENGTHS.items():
            if column == "precision" and alert_type == "escroquerie":
                continue  # an unknown precision is already reported
            if len(values[column]) > limit:
                self.motifs.append(
                    f"Champ « {column} » trop long : {thousands(len(values[column]))} caractères "
                    f"({thousands(limit)} au maximum)."
                )
