"""The banner of the `Alertes` tab: a formula in its header row, after the last header, that
reads « ✓ Envoi en marche » or « ⚠ Envoi arrêté depuis … : prévenir la CMA » from the heartbeat
the sender writes in `Etat` (`dernier_passage`, every minute), and a conditional format that
turns the whole header row red when that heartbeat is more than 3 minutes old.

The sheet computes it itself, so it works when the sender is dead: `initialiser` sets the
spreadsheet to recalculate every minute (`autoRecalc: MINUTE`) in Europe/Paris time, the zone
the heartbeat is written in. Formulas go through the API with English function names and `,`
between arguments whatever the spreadsheet's locale.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gspread.utils import rowcol_to_a1

STALE_MINUTES = 3
SIGNS = ("✓ ", "⚠ ")  # how the banner's texts begin: a header cell that is not a column
RUNNING = "✓ Envoi en marche (dernier passage "
STOPPED = "⚠ Envoi arrêté depuis "
NEVER = "⚠ Envoi arrêté\u00a0: aucun passage enregistré\u00a0: prévenir la CMA"
ADVICE = "\u00a0: prévenir la CMA"
RED = {"red": 0.8, "green": 0.0, "blue": 0.0}
WHITE = {"red": 1.0, "green": 1.0, "blue": 1.0}


def is_banner(cell: object) -> bool:
    return str(cell or "").startswith(SIGNS)


def _column(positions: Mapping[str, int], name: str) -> str:
    return rowcol_to_a1(1, positions[name] + 1).rstrip("1")


def heartbeat_expressions(etat: Mapping[str, int]) -> tuple[str, str] | None:
    """(the heartbeat's text, its moment as a date serial) as formula expressions, from the
    columns of `Etat`; None when `valeur` is left of `cle` (VLOOKUP cannot look there)."""
    if etat["valeur"] <= etat["cle"]:
        return None
    span = f"Etat!{_column(etat, 'cle')}:{_column(etat, 'valeur')}"
    text = f'VLOOKUP("dernier_passage",{span},{etat["valeur"] - etat["cle"] + 1},FALSE)'
    moment = (
        f"DATE(VALUE(MID({text},7,4)),VALUE(MID({text},4,2)),VALUE(LEFT({text},2)))"
        f"+TIME(VALUE(MID({text},12,2)),VALUE(MID({text},15,2)),0)"
    )
    return text, moment


def _quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def banner_formula(etat: Mapping[str, int]) -> str | None:
    expressions = heartbeat_expressions(etat)
    if expressions is None:
        return None
    text, moment = expressions
    stale = f"NOW()-({moment})>{STALE_MINUTES}/1440"
    return (
        f"=IFERROR(IF({stale},{_quoted(STOPPED)}&{text}&{_quoted(ADVICE)},"
        f"{_quoted(RUNNING)}&{text}&\")\"),{_quoted(NEVER)})"
    )


def stale_formula(etat: Mapping[str, int]) -> str | None:
    """True when the heartbeat is missing or older than `STALE_MINUTES` (conditional format)."""
    expressions = heartbeat_expressions(etat)
    if expressions is None:
        return None
    _, moment = expressions
    return f"=IFERROR(NOW()-({moment})>{STALE_MINUTES}/1440,TRUE)"


RECALCULATE_EVERY_MINUTE: dict[str, Any] = {"updateSpreadsheetProperties": {
    "properties": {"autoRecalc": "MINUTE", "timeZone": "Europe/Paris"},
    "fields": "autoRecalc,timeZone",
}}


def banner_requests(sheet_id: int, column: int, etat: Mapping[str, int]) -> list[dict[str, Any]]:
    """The banner formula at (row 1, `column`, 0-based) of `Alertes` and the red header row."""
    formula, stale = banner_formula(etat), stale_formula(etat)
    if formula is None or stale is None:
        return []
    return [
        {"updateCells": {
            "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": column},
            "rows": [{"values": [{"userEnteredValue": {"formulaValue": formula}}]}],
            "fields": "userEnteredValue",
        }},
        {"addConditionalFormatRule": {"index": 0, "rule": {
            "ranges": [{"sheetId": sheet_id, "startRowIndex": 0, "endRowIndex": 1,
                        "startColumnIndex": 0, "endColumnIndex": column + 1}],
            "booleanRule": {
                "condition": {"type": "CUSTOM_FORMULA",
                              "values": [{"userEnteredValue": stale}]},
                "format": {"backgroundColor": RED,
                           "textFormat": {"foregroundColor": WHITE, "bold": True}},
            },
        }}},
    ]
