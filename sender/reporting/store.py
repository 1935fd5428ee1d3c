"""Writing and reading the figures file (`data/statistiques.json` by default).

The site build reads it back: a file that is not ours, or that shows a group under the
threshold, is refused with a French message rather than published.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from sender.config import DEFAULT_STATISTICS
from sender.errors import InputError
from sender.reporting.aggregate import FORMAT, THRESHOLD

DEFAULT_PATH = Path(DEFAULT_STATISTICS)
_PEOPLE = ("par_zone", "par_activite")
_ALERTS = ("par_type", "par_mois")


def write_statistics(document: Mapping[str, object], path: Path) -> None:
    """Write the JSON document atomically (a half-written file is never published)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    os.replace(temporary, path)


def _groups(section: Mapping[str, object], name: str, where: Path) -> list[Mapping[str, object]]:
    breakdown = section.get(name)
    groups = breakdown.get("groupes") if isinstance(breakdown, dict) else None
    if not isinstance(groups, list) or not all(
        isinstance(g, dict) and isinstance(g.get("libelle"), str)
        and isinstance(g.get("nombre"), int) and not isinstance(g.get("nombre"), bool)
        and g["nombre"] >= 0
        for g in groups
    ):
        raise InputError(
            f"Le fichier de chiffres {where} est incomplet (rubrique « {name} ») : "
            "produisez-le à nouveau avec « alerte-message statistiques »."
        )
    return groups


def check_statistics(document: object, where: Path) -> dict[str, object]:
    """The document if it is a figures file safe to publish; else a French `InputError`."""
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InputError(
            f"Le fichier {where} n'est pas un fichier de chiffres d'Alerte Message (format "
            f"attendu : {FORMAT}) : produisez-le avec « alerte-message statistiques »."
        )
    members, alerts = document.get("adherents"), document.get("alertes")
    if not isinstance(members, dict) or not isinstance(alerts, dict):
        raise InputError(
            f"Le fichier de chiffres {where} est incomplet : produisez-le à nouveau avec "
            "« alerte-message statistiques »."
        )
    for name in _PEOPLE:
        for group in _groups(members, name, where):
            if 0 < int(group["nombre"]) < THRESHOLD:  # type: ignore[call-overload]
                raise InputError(
                    f"Le fichier de chiffres {where} montre un groupe de moins de {THRESHOLD} "
                    f"personnes (« {group['libelle']} ») : il n'est pas publié. Produisez-le "
                    "avec « alerte-message statistiques »."
                )
    for name in _ALERTS:
        _groups(alerts, name, where)
    return document


def read_statistics(path: Path) -> dict[str, object] | None:
    """The figures to publish, or None when the file does not exist (no figures yet)."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(
            f"Impossible de lire le fichier de chiffres {path} ({exc.strerror or exc})."
        ) from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InputError(
            f"Le fichier de chiffres {path} n'est pas du JSON lisible "
            f"(ligne {getattr(exc, 'lineno', '?')}) : produisez-le à nouveau avec "
            "« alerte-message statistiques »."
        ) from exc
    return check_statistics(document, path)
