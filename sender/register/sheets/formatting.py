"""Formatting requests sent by `initialise` for the columns it creates: drop-down validation
lists, text format for phone numbers, and warning-only protection of the sender's columns
(frozen header rows are set when a tab is created, in `layout`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sender import schema
from sender.register.base import InitReport

PROTECTION_NOTE = (
    "Colonne remplie par l'expéditeur Alerte Message : ne la modifiez pas à la main "
    "(statuts et résultats d'envoi)."
)

# (tab or None for every tab, column) → (allowed values, strict)
CHOICES: dict[tuple[str | None, str], tuple[tuple[str, ...], bool]] = {
    (schema.INSCRIPTIONS, "statut"): (schema.INSCRIPTION_STATUSES, True),
    (schema.ALERTES, "statut"): (schema.ALERT_STATUSES, True),
    (None, "type"): (schema.ALERT_ROW_TYPES, True),
    (None, "activite"): (schema.ACTIVITES, False),
    (None, "cible_zone"): (schema.TARGET_ZONES, True),
}


def format_requests(
    tab: str,
    sheet_id: int,
    positions: Mapping[str, int],
    new_columns: set[str],
    protected: list[dict[str, Any]],
    report: InitReport,
    refresh: Collection[str] = (),
) -> list[dict[str, Any]]:
    """`:batchUpdate` requests formatting the `new_columns` of one tab; notes them in `report`.
    The drop-down lists of the `refresh` columns are set again (values added since, such as
    « annulée »)."""
    requests_: list[dict[str, Any]] = []
    columns = set(new_columns) | {c for c in refresh if c in positions}
    for column in sorted(columns, key=lambda c: positions[c]):
        index = positions[column]
        choice = CHOICES.get((tab, column)) or CHOICES.get((None, column))
        if choice is not None:
            values, strict = choice
            requests_.append({"setDataValidation": {
                "range": {"sheetId": sheet_id, "startRowIndex": 1,
                          "startColumnIndex": index, "endColumnIndex": index + 1},
                "rule": {
                    "condition": {"type": "ONE_OF_LIST",
                                  "values": [{"userEnteredValue": v} for v in values]},
                    "inputMessage": "Choisissez une valeur dans la liste.",
                    "strict": strict,
                    "showCustomUi": True,
                },
            }})
            report.formatting.append(f"{tab}.{column} : liste déroulante")
        if column not in new_columns:
            continue
        if column == "telephone":
            requests_.append({"repeatCell": {
                "range": {"sheetId": sheet_id, "startColumnIndex": index,
                          "endColumnIndex": index + 1},
                "cell": {"userEnteredFormat": {"numberFormat": {"type": "TEXT"}}},
                "fields": "userEnteredFormat.numberFormat",
            }})
            report.formatting.append(f"{tab}.{column} : format texte")
    unprotected = sorted(
        positions[c] for c in schema.SENDER_COLUMNS.get(tab, ())
        if c in positions and not covered(protected, positions[c])
    )
    for start, end in runs(unprotected):
        requests_.append({"addProtectedRange": {"protectedRange": {
            "range": {"sheetId": sheet_id, "startColumnIndex": start,
                      "endColumnIndex": end},
            "description": PROTECTION_NOTE,
            "warningOnly": True,
        }}})
        names = [n for n, i in positions.items() if start <= i < end]
        report.formatting.append(
            f"{tab} : colonnes {', '.join(names)} protégées (avertissement)"
        )
    return requests_


def covered(protected: Iterable[Mapping[str, Any]], column: int) -> bool:
    """True when one of the warning-only `protected` ranges already covers the 0-based
    `column` (the edit protection of a whole tab is another matter: see `layout`)."""
    for item in protected:
        if not item.get("warningOnly", False):
            continue
        grid = item.get("range", {})
        start = grid.get("startColumnIndex", 0)
        end = grid.get("endColumnIndex")
        if start <= column and (end is None or column < end):
            return True
    return False


def runs(indexes: Sequence[int]) -> list[tuple[int, int]]:
    """Sorted column indexes as half-open runs of consecutive columns."""
    result: list[tuple[int, int]] = []
    for index in indexes:
        if result and result[-1][1] == index:
            result[-1] = (result[-1][0], index + 1)
        else:
            result.append((index, index + 1))
    return result
