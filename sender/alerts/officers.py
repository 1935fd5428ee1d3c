"""Officers allowed to publish alerts: the active rows of the `Habilitations` tab."""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Iterable, Mapping

from sender.alerts.model import Officer
from sender.text import cell_text, is_truthy, quote


def normalise_identifiant(text: str | None) -> str:
    """Key for officer identifiants: no case, no spaces (« g 1234 » is « G1234 »)."""
    value = unicodedata.normalize("NFKC", cell_text(text)[:200])
    return "".join(value.split()).casefold()


def active_officers(habilitations_rows: Iterable[Mapping[str, object]]) -> dict[str, Officer]:
    """Active officers of the `Habilitations` tab, keyed by `normalise_identifiant`.

    Pass the result to `check_alert(officers=…)`; its `service` fills an alert whose `service`
    cell was left empty.
    """
    officers: dict[str, Officer] = {}
    for row in habilitations_rows:
        key = normalise_identifiant(cell_text(row.get("identifiant")))
        if key and is_truthy(cell_text(row.get("actif"))):
            officers.setdefault(
                key,
                Officer(
                    cell_text(row.get("identifiant"))[:60],
                    cell_text(row.get("nom"))[:120],
                    cell_text(row.get("service"))[:120],
                ),
            )
    return officers


def check_agent(
    agent: str, service: str, officers: Mapping[str, Officer] | Collection[str]
) -> tuple[str, list[str]]:
    """The `agent` must be an active officer; an empty `service` takes the officer's service."""
    key = normalise_identifiant(agent)
    if not key:
        return service, [
            "Champ « agent » vide : indiquer votre identifiant (onglet Habilitations)."
        ]
    if key not in officers:
        return service, [f"Agent {quote(agent, 30)} absent de l'onglet Habilitations ou inactif."]
    if not service and isinstance(officers, Mapping):
        officer = officers.get(key)
        if isinstance(officer, Officer):
            return officer.service, []
    return service, []
