"""The checked alert, the verdict on an `Alertes` row and the vocabularies officers type."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sender.domain.communes import Commune
from sender.schema import (
    A_DIFFUSER,
    ALERT_TYPES,
    ESCROQUERIE_PRECISIONS,
    FIN_ALERTE,
    REFUSEE,
    SUITE,
)
from sender.text import fold, singular_words

# Verdicts of `check_alert`.
VERDICT_ACCEPTED: Final = A_DIFFUSER  # "à diffuser"
VERDICT_REFUSED: Final = REFUSEE  # "refusée"
VERDICT_IGNORED: Final = "ignorée"

PREVENTION: Final = "prévention"

# How a precision reads inside a message (« ALERTE ESCROQUERIE (fausse qualité) »); « autre » adds
# nothing worth reading.
PRECISION_LABELS: Final[dict[str, str]] = {
    "faux moyen de paiement": "faux moyen de paiement",
    "fausse qualité": "fausse qualité",
    "rendez-moi": "arnaque au rendez-moi",
    "autre": "",
}

_TYPE_WORDS: Final[dict[str, str]] = {
    "vol": "vol",
    "vol a l etalage": "vol",
    "vol a la tire": "vol",
    "vol a la roulotte": "vol",
    "vol a l arrache": "vol",
    "agression": "agression",
    "aggression": "agression",
    "cambriolage": "cambriolage",
    "escroquerie": "escroquerie",
    "escroc": "escroquerie",
    "arnaque": "escroquerie",
    "prevention": "prévention",
    "message de prevention": "prévention",
    "conseil de prevention": "prévention",
    "info prevention": "prévention",
}
_ATTEMPT_PREFIXES: Final = ("tentative de ", "tentative d ", "tentatives de ", "tentatives d ")

# Escroquerie precisions, tried in this order on the folded text (see `normalise_precision`).
_RENDEZ_MOI: Final = ("rendez moi", "rendezmoi", "rendez la monnaie", "rend moi")
_FALSE_IDENTITY: Final = (
    "qualite", "usurpation", "se faisant passer", "policier", "police", "gendarme", "agent",
    "technicien", "plombier", "electricien", "employe", "livreur", "inspecteur", "controleur",
    "pompier", "facteur", "banquier", "conseiller", "demarcheur", "fonctionnaire", "enqueteur",
)
_FALSE_PAYMENT: Final = (
    "moyen de paiement", "paiement", "billet", "cheque", "carte", "monnaie", "virement",
    "coupure", "ticket",
)
_OTHER: Final = ("autre", "autres", "divers", "autre escroquerie")


def normalise_type(text: str | None) -> str | None:
    """The alert type (one of `ALERT_TYPES`) for what an officer typed, or None if unknown.

    Case, accents, plurals and « tentative de … » are accepted: « VOLS », « Prevention »,
    « tentative de cambriolage ».
    """
    key = fold(text or "")
    if not key or len(key) > 80:
        return None
    for prefix in _ATTEMPT_PREFIXES:
        if key.startswith(prefix):
            key = key[len(prefix):]
            break
    for candidate in (key, singular_words(key)):
        found = _TYPE_WORDS.get(candidate)
        if found is not None:
            return found
    if key.startswith("vol "):
        return "vol"
    return None


_SEQUEL_WORDS: Final[dict[str, str]] = {
    "suite": SUITE,
    "suite de l alerte": SUITE,
    "mise a jour": SUITE,
    "fin d alerte": FIN_ALERTE,
    "fin de l alerte": FIN_ALERTE,
    "fin alerte": FIN_ALERTE,
    "fin": FIN_ALERTE,
}


def normalise_sequel(text: str | None) -> str | None:
    """The follow-up type (« suite » or « fin d'alerte ») for what an officer typed, or None."""
    key = fold(text or "")[:80]
    return _SEQUEL_WORDS.get(key) or _SEQUEL_WORDS.get(singular_words(key))


def normalise_precision(text: str | None) -> str | None:
    """The escroquerie precision (one of `ESCROQUERIE_PRECISIONS`) or None if not recognised.

    « faux billet », « chèque volé », « fausse carte » → faux moyen de paiement;
    « faux policier », « faux agent EDF » → fausse qualité; « rendez moi la monnaie » →
    rendez-moi; « autre » / « divers » → autre.
    """
    key = fold(text or "")
    if not key or len(key) > 120:
        return None
    words = f" {singular_words(key)} "
    if key in _OTHER:
        return "autre"
    if any(marker in key for marker in _RENDEZ_MOI):
        return "rendez-moi"
    if any(f" {marker}" in words for marker in _FALSE_IDENTITY):
        return "fausse qualité"
    if any(f" {marker}" in words for marker in _FALSE_PAYMENT):
        return "faux moyen de paiement"
    return None


assert set(_TYPE_WORDS.values()) <= set(ALERT_TYPES)
assert set(PRECISION_LABELS) == set(ESCROQUERIE_PRECISIONS)


@dataclass(frozen=True, slots=True)
class Officer:
    """An active row of the `Habilitations` tab."""

    identifiant: str
    nom: str = ""
    service: str = ""


@dataclass(slots=True)
class Alert:
    """An `Alertes` row once checked: normalised vocabulary, aware Europe/Paris datetimes.

    `type` is one of `ALERT_TYPES`; `precision` is one of `ESCROQUERIE_PRECISIONS` for an
    escroquerie, the officer's free text (possibly empty) otherwise. `cible_zone` is one of
    `TARGET_ZONES` ("toutes" when the cell was empty); empty target lists mean « everyone ».
    """

    id: str
    type: str
    precision: str = ""
    faits_le: datetime | None = None
    service: str = ""
    agent: str = ""
    commune: Commune | None = None
    commune_text: str = ""
    lieu: str = ""
    description: str = ""
    auteurs: str = ""
    vehicule: str = ""
    cible_zone: str = "toutes"
    cible_communes: list[Commune] = field(default_factory=list)
    cible_activites: list[str] = field(default_factory=list)
    statut: str = VERDICT_ACCEPTED
    # A follow-up (`type` « suite » or « fin d'alerte »): the original's id, when it went out
    # (« 12/03 à 14 h 05 ») and what it was about (« vol, Mende »).
    suite_de: str = ""
    origine_le: str = ""
    origine: str = ""

    @property
    def type_label(self) -> str:
        """« Vol », « Prévention »…"""
        return self.type.capitalize()

    @property
    def precision_label(self) -> str:
        """How the precision reads in a message (empty for « autre »)."""
        if self.type == "escroquerie":
            return PRECISION_LABELS.get(self.precision, self.precision)
        return self.precision

    @property
    def commune_name(self) -> str:
        """The official commune name when matched, else what the officer typed."""
        return self.commune.nom if self.commune is not None else self.commune_text


@dataclass(slots=True)
class Verdict:
    """What the sender should do with one `Alertes` row.

    `status` is « à diffuser » (then `alert` is set), « refusée » (`motifs` says why, every
    problem found) or « ignorée » (the row is not waiting to be sent; nothing to write back).
    """

    status: str
    motifs: list[str] = field(default_factory=list)
    alert: Alert | None = None

    @property
    def motif(self) -> str:
        """All motifs in one cell, separated by « ; »."""
        if not self.motifs:
            return ""
        head = [m.rstrip(" .") for m in self.motifs[:-1]]
        return " ; ".join([*head, self.motifs[-1]])

    @property
    def accepted(self) -> bool:
        return self.status == VERDICT_ACCEPTED
