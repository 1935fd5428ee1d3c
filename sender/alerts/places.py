"""Place and audience checks of an `Alertes` row: commune, target zone, communes, activities.

Each check takes the cleaned cell text and returns what it read with the French motifs it found;
`rules.py` runs them in the order an officer reads the row.
"""

from __future__ import annotations

from collections.abc import Callable

from sender.alerts.fields import MAX_LENGTHS
from sender.alerts.targeting import split_activities
from sender.domain.communes import Commune, match_commune, split_names
from sender.text import fold, quote

MAX_TARGET_COMMUNES = 160  # more names than Lozère has communes (152 + former ones listed once)
MAX_TARGET_ACTIVITIES = 50

_ZONE_WORDS = {
    "": "toutes", "toutes": "toutes", "toute": "toutes", "tous": "toutes", "tout": "toutes",
    "toutes zones": "toutes", "toutes les zones": "toutes", "departement": "toutes",
    "tout le departement": "toutes", "police": "police", "zone police": "police",
    "gendarmerie": "gendarmerie", "zone gendarmerie": "gendarmerie",
}


def check_commune(typed: str) -> tuple[Commune | None, list[str]]:
    """The commune of the facts, when given."""
    if not typed:
        return None, []
    found = match_commune(typed) if len(typed) <= MAX_LENGTHS["commune"] else None
    if found is None:
        return None, [
            f"Commune {quote(typed, 40)} inconnue en Lozère : vérifier l'orthographe "
            "(ex. Saint-Chély-d'Apcher) ou décrire l'endroit dans « lieu »."
        ]
    return found, []


def check_zone(typed: str) -> tuple[str | None, list[str]]:
    """The `cible_zone` cell: toutes (also when empty), police or gendarmerie."""
    zone = _ZONE_WORDS.get(fold(typed[:40])) if len(typed) <= 40 else None
    if zone is None:
        return None, [
            f"Cible {quote(typed, 30)} inconnue dans « cible_zone » : laisser vide ou "
            "choisir toutes, police ou gendarmerie."
        ]
    return zone, []


def check_target_communes(typed: str, zone: str | None) -> tuple[list[Commune], list[str]]:
    """The targeted communes, each known in Lozère, at least one inside the targeted zone."""
    names, motifs = _listed(
        typed, "cible_communes", split_names, MAX_TARGET_COMMUNES, "communes",
        "pour tout le département",
    )
    if motifs:
        return [], motifs
    found: dict[str, Commune] = {}
    unknown: list[str] = []
    for name in names:
        commune = match_commune(name) if len(name) <= MAX_LENGTHS["commune"] else None
        if commune is None:
            unknown.append(quote(name, 40))
        else:
            found.setdefault(commune.code, commune)
    if unknown:
        shown = unknown[:10] + ([f"et {len(unknown) - 10} autres"] if len(unknown) > 10 else [])
        plural = len(unknown) > 1
        motifs.append(
            f"{'Communes ciblées inconnues' if plural else 'Commune ciblée inconnue'} en "
            f"Lozère : {', '.join(shown)} ; corriger « cible_communes » (noms séparés par "
            "des virgules)."
        )
    in_zone = any(c.zone == zone for c in found.values())
    if found and zone in ("police", "gendarmerie") and not in_zone:
        motifs.append(
            f"Aucune commune de « cible_communes » n'est en zone {zone} : personne ne "
            "recevrait l'alerte ; corriger « cible_zone » ou « cible_communes »."
        )
    return list(found.values()), motifs


def check_activities(typed: str) -> tuple[list[str], list[str]]:
    """The targeted trades."""
    return _listed(
        typed, "cible_activites", split_activities, MAX_TARGET_ACTIVITIES, "activités",
        "pour toutes",
    )


def _listed(
    typed: str,
    column: str,
    split: Callable[[str], list[str]],
    limit: int,
    noun: str,
    empty_means: str,
) -> tuple[list[str], list[str]]:
    """The names listed in a targeting cell, at most `limit` of them."""
    if not typed or len(typed) > MAX_LENGTHS[column]:
        return [], []  # too long: reported by check_lengths
    names = split(typed)
    if len(names) > limit:
        return [], [
            f"« {column} » liste {len(names)} {noun} : en cibler {limit} au plus, ou laisser "
            f"vide {empty_means}."
        ]
    return names, []
