"""The CMA's legal and contact details, from one settings block and the environment.

`pelicanconf.py` holds the block (`CMA_COORDONNEES`); each value may also come from an
environment variable, which wins. The development build shows a missing value as a discreet
« à fournir par la CMA » mark; the production build (`publishconf.py`) refuses to run while one
is missing or invalid, with the French list of what to provide.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from sender.dates import DateError, parse_datetime
from sender.errors import ConfigurationError
from sender.text import cell_text, one_line


@dataclass(frozen=True, slots=True)
class Detail:
    key: str
    label: str  # French, as the list of missing details reads it
    variable: str  # environment variable that overrides the settings block
    example: str


DETAILS: tuple[Detail, ...] = (
    # Since 2021 the CMA de la Lozère is the départemental level of the CMA de région Occitanie,
    # most likely the public body that publishes the site and controls the data; the CMA gives
    # its legal name, shown in the legal notice and the data notice.
    Detail("organisme", "organisme public éditeur du site et responsable du traitement (nom "
           "légal)", "ALERTE_CMA_ORGANISME",
           "Chambre de Métiers et de l’Artisanat de région Occitanie"),
    Detail("adresse", "adresse postale de la CMA", "ALERTE_CMA_ADRESSE",
           "2 rue de l’Exemple, 48000 Mende"),
    Detail("telephone", "téléphone de contact", "ALERTE_CMA_TELEPHONE", "04 66 00 00 00"),
    Detail("courriel", "adresse électronique de contact", "ALERTE_CMA_COURRIEL",
           "alerte@cma-lozere.fr"),
    Detail("siret", "numéro SIRET de la CMA", "ALERTE_CMA_SIRET", "14 chiffres"),
    Detail("directeur_publication", "directeur ou directrice de la publication (nom et "
           "fonction)", "ALERTE_CMA_DIRECTEUR_PUBLICATION", "Prénom Nom, président(e)"),
    Detail("hebergeur", "hébergeur du site (nom, adresse et téléphone)", "ALERTE_CMA_HEBERGEUR",
           "Société, adresse, téléphone"),
    Detail("dpo", "délégué(e) à la protection des données (nom ou service, et adresse "
           "électronique)", "ALERTE_CMA_DPO", "Service DPO, dpo@cma-lozere.fr"),
    Detail("date_accessibilite", "date de la déclaration d’accessibilité (JJ/MM/AAAA)",
           "ALERTE_CMA_DATE_ACCESSIBILITE", "15/01/2027"),
)
BY_KEY = {detail.key: detail for detail in DETAILS}

_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[a-z]{2,}$", re.IGNORECASE)
_NOT_DIGIT = re.compile(r"\D")


class DetailsMissing(ConfigurationError):
    """The production build was asked to publish without some of the CMA's details."""


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def problem(key: str, value: str) -> str | None:
    """Why a provided value cannot be published, in French; None when it can."""
    if key == "siret":
        digits = _NOT_DIGIT.sub("", value)
        if len(digits) != 14 or not value.replace(" ", "").isdigit() or not _luhn(digits):
            return f"14 chiffres attendus (numéro vérifiable), reçu « {value} »"
    elif key == "courriel":
        if not _EMAIL.match(value):
            return f"adresse électronique attendue, reçu « {value} »"
    elif key == "telephone":
        if len(_NOT_DIGIT.sub("", value)) < 10:
            return f"numéro à 10 chiffres attendu, reçu « {value} »"
    elif key == "date_accessibilite":
        try:
            parsed = parse_datetime(value)
        except DateError:
            parsed = None
        if parsed is None:
            return f"date JJ/MM/AAAA attendue, reçu « {value} »"
    return None


def read_details(block: Mapping[str, str], env: Mapping[str, str]) -> dict[str, str]:
    """Every detail: the environment variable when set, else the settings block, else ""."""
    unknown = sorted(set(block) - set(BY_KEY))
    if unknown:
        raise ConfigurationError(
            f"Bloc CMA_COORDONNEES : rubrique inconnue {', '.join(unknown)} (rubriques "
            f"possibles : {', '.join(BY_KEY)})."
        )
    details = {}
    for detail in DETAILS:
        value = cell_text(env.get(detail.variable)) or cell_text(block.get(detail.key))
        details[detail.key] = value if detail.key == "adresse" else one_line(value)
    return details


def missing(details: Mapping[str, str]) -> list[str]:
    """One French line per detail that is missing or invalid (empty when all can be published)."""
    lines = []
    for detail in DETAILS:
        value = details.get(detail.key, "")
        if not value:
            lines.append(f"{detail.label} : {detail.variable} (par exemple « {detail.example} »)")
        elif (why := problem(detail.key, value)) is not None:
            lines.append(f"{detail.label} : {detail.variable} — {why}")
    return lines


def require_complete(details: Mapping[str, str]) -> None:
    """Raise `DetailsMissing` with the French list when a detail is missing or invalid."""
    lines = missing(details)
    if lines:
        raise DetailsMissing(
            "Site de production non construit : des informations de la CMA manquent ou sont "
            "invalides. Renseignez-les dans le bloc CMA_COORDONNEES de pelicanconf.py ou dans "
            "ces variables d'environnement :\n" + "\n".join(f"  - {line}" for line in lines)
        )
