"""Follow-ups of an alert already sent: rows whose `type` is « suite » or « fin d'alerte » and
whose `suite_de` holds the original alert's `id` (CAP 1.2 « Update », see docs/architecture.md).

A follow-up goes to exactly the members the original reached (the journal knows them), minus
those no longer active; never to members who joined since. It has no one-hour rule (the
original passed it) but its original must be « diffusée », or « annulée » after reaching some
members, and have gone out at most `SEQUEL_MAX_DAYS` ago. `check_sequel` is pure: the original
is described by the caller (`Original`), the current time is a parameter.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sender.alerts.fields import check_lengths
from sender.alerts.model import (
    PREVENTION,
    VERDICT_ACCEPTED,
    VERDICT_REFUSED,
    Alert,
    Officer,
    Verdict,
    normalise_sequel,
    normalise_type,
)
from sender.alerts.officers import check_agent
from sender.alerts.places import check_commune
from sender.dates import PARIS
from sender.schema import ANNULEE, DIFFUSEE, SEQUEL_MAX_DAYS, SUITE
from sender.text import cell_text, day_and_hour, fold, plural, quote

_TEXT_COLUMNS = (
    "id", "service", "agent", "precision", "commune", "lieu", "auteurs", "vehicule",
    "cible_communes", "cible_activites", "description", "suite_de",
)


@dataclass(frozen=True, slots=True)
class Original:
    """What a follow-up needs to know of the alert it follows."""

    alert_id: str
    statut: str  # as the row shows it
    type: str  # its `type` cell
    commune: str
    lieu: str
    sequel_of: str  # its own `suite_de` when it is itself a follow-up, else ""
    first_sent: datetime | None  # its first message accepted (journal), None if none
    reached: int  # members it reached (journal `sent` rows)

    @property
    def label(self) -> str:
        """« vol, Mende »: what a member recognises of it."""
        kind = normalise_type(self.type) or cell_text(self.type).lower() or "alerte"
        if kind == PREVENTION:
            return "prévention"
        commune, _ = check_commune(cell_text(self.commune))
        place = commune.nom if commune is not None else cell_text(self.commune) or self.lieu
        return f"{kind}, {place}" if place else kind


def sequel_type(typed: object) -> str | None:
    """« suite » or « fin d'alerte » when the row is a follow-up, else None."""
    return normalise_sequel(cell_text(typed))


def short_moment(moment: datetime) -> str:
    """« 12/03 à 14 h 05 », Europe/Paris: how a member recalls a message of the last days."""
    local = moment.astimezone(PARIS)
    return f"{local:%d/%m} à {local.hour} h {local:%M}"


def check_sequel(
    row: Mapping[str, object],
    *,
    officers: Mapping[str, Officer] | Collection[str],
    original: Original | None,
    now: datetime,
    resuming: bool = False,
) -> Verdict:
    """Whether a follow-up row may go out (its status is already « à diffuser »); `resuming`
    skips the age limit for a dispatch already started."""
    values = {column: cell_text(row.get(column)) for column in _TEXT_COLUMNS}
    kind = sequel_type(row.get("type")) or SUITE
    motifs = _original_motifs(values["suite_de"], original, now, resuming=resuming)
    if not values["description"]:
        motifs.append(
            "Champ « description » vide : écrire ce qui est nouveau (auteur interpellé, "
            "précision, fin de l'alerte…)."
        )
    service, found = check_agent(values["agent"], values["service"], officers)
    motifs += found
    motifs += check_lengths(values, kind)
    if motifs or original is None or original.first_sent is None:
        return Verdict(VERDICT_REFUSED, motifs)
    alert = Alert(
        id=values["id"],
        type=kind,
        service=service,
        agent=values["agent"],
        description=values["description"],
        statut=VERDICT_ACCEPTED,
        suite_de=original.alert_id,
        origine_le=short_moment(original.first_sent),
        origine=original.label,
    )
    return Verdict(VERDICT_ACCEPTED, [], alert)


def _original_motifs(
    suite_de: str, original: Original | None, now: datetime, *, resuming: bool
) -> list[str]:
    """What keeps the original from being followed up, if anything."""
    if not suite_de:
        return [
            "Champ « suite_de » vide : indiquer l'identifiant (colonne « id ») de l'alerte "
            "diffusée que ce message complète."
        ]
    if original is None:
        return [f"Aucune alerte avec l'identifiant {quote(suite_de, 20)} : vérifier « suite_de »."]
    name = f"L'alerte n° {original.alert_id}"
    if original.sequel_of:
        return [
            f"{name} est elle-même une suite : indiquer dans « suite_de » l'alerte d'origine "
            f"(n° {original.sequel_of})."
        ]
    status = fold(original.statut)
    if status not in (fold(DIFFUSEE), fold(ANNULEE)):
        shown = cell_text(original.statut) or "vide"
        return [
            f"{name} est « {shown} » : une suite ne part qu'après une alerte « {DIFFUSEE} » "
            f"(ou « {ANNULEE} » après un envoi partiel)."
        ]
    if original.first_sent is None or original.reached == 0:
        return [f"{name} n'a atteint aucun adhérent : une suite n'aurait pas de destinataire."]
    age = now - original.first_sent
    if not resuming and age > timedelta(days=SEQUEL_MAX_DAYS):
        return [
            f"{name} est partie le {day_and_hour(original.first_sent)}, il y a "
            f"{plural(age.days, 'jour')} : une suite part au plus {SEQUEL_MAX_DAYS} jours après. "
            "Créer une nouvelle alerte."
        ]
    return []


def sequel_note(kind: str, when: datetime, sequel_id: str, agent: str) -> str:
    """What the original row's `motif` gains once a follow-up has gone out."""
    what = "Suite envoyée" if kind == SUITE else "Fin d'alerte envoyée"
    by = f", agent {agent}" if agent else ""
    return f"{what} le {day_and_hour(when)} (alerte n° {sequel_id}{by})."
