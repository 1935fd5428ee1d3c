"""Place and audience checks of an `Alertes` row: commune, target zone, communes, activities.

`PlaceChecks` is a mixin of the row checker in `rules.py`: each check appends French motifs to
`self.motifs`.
"""

from __future__ import annotations

from collections.abc import Mapping

from sender.alerts.fields import MAX_LENGTHS
from sender.alerts.targeting import split_activities
from sender.cleaning.communes import Commune, match_commune, split_names
from sender.text import clean, fold, quote

MAX_TARGET_COMMUNES = 160  # more names than Lozère has communes (152 + former ones listed once)
MAX_TARGET_ACTIVITIES = 50

_ZONE_WORDS = {
    "": "toutes", "toutes": "toutes", "toute": "toutes", "tous": "toutes", "tout": "toutes",
    "toutes zones": "toutes", "toutes les zones": "toutes", "departement": "toutes",
    "tout le departement": "toutes", "police": "police", "zone police": "police",
    "gendarmerie": "gendarmerie", "zone gendarmerie": "gendarmerie",
}


class PlaceChecks:
    """Commune and targeting checks (needs `row` and `motifs`)."""

    row: Mapping[str, object]
    motifs: list[str]

    def check_commune(self, typed: str) -> Commune | None:
        if not typed:
            return None
        found = match_commune(typed) if len(typed) <= MAX_LENGTHS["commune"] else None
        if found is None:
            self.motifs.append(
                f"Commune {quote(typed, 40)} inconnue en Lozère : vérifier l'orthographe "
                "(ex. Saint-Chély-d'Apcher) ou décrire l'endroit dans « lieu »."
            )
        return found

    def check_zone(self) -> str | None:
        typed = clean(self.row.get("cible_zone"))
        zone = _ZONE_WORDS.get(fold(typed[:40])) if len(typed) <= 40 else None
        if zone is None:
            self.motifs.append(
                f"Cible {quote(typed, 30)} inconnue dans « cible_zone » : laisser vide ou "
                "choisir toutes, police ou gendarmerie."
            )
        return zone

    def check_target_communes(self, typed: str, zone: str | None) -> list[Commune]:
        if not typed or len(typed) > MAX_LENGTHS["cible_communes"]:
            return []  # too long: reported by check_lengths
        names = split_names(typed)
        if len(names) > MAX_TARGET_COMMUNES:
            self.motifs.append(
                f"« cible_communes » liste {len(names)} communes : en cibler "
                f"{MAX_TARGET_COMMUNES} au plus, ou laisser vide pour tout le département."
            )
            return []
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
            self.motifs.append(
                f"{'Communes ciblées inconnues' if plural else 'Commune ciblée inconnue'} en "
                f"Lozère : {', '.join(shown)} ; corriger « cible_communes » (noms séparés par "
                "des virgules)."
            )
        in_zone = any(c.zone == zone for c in found.values())
        if found and zone in ("police", "gendarmerie") and not in_zone:
            self.motifs.append(
                f"Aucune commune de « cible_communes » n'est en zone {zone} : personne ne "
                "recevrait l'alerte ; corriger « cible_zone » ou « cible_communes »."
            )
        return list(found.values())

    def check_activities(self, typed: str) -> list[str]:
        if not typed or len(typed) > MAX_LENGTHS["cible_activites"]:
            return []
        activities = split_activities(typed)
        if len(activities) > MAX_TARGET_ACTIVITIES:
            self.motifs.append(
                f"« cible_activites » liste {len(activities)} activités : en cibler "
                f"{MAX_TARGET_ACTIVITIES} au plus, ou laisser vide pour toutes."
            )
            return []
        return activities
