"""Layout of the register's spreadsheet: the tab list read from the sheet's metadata, and the
plan `initialise` sends to bring it to the schema (missing tabs and header columns, their
formatting, default message templates)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gspread.utils import absolute_range_name, rowcol_to_a1

from sender import schema
from sender.register.base import InitReport
from sender.register.defaults import default_template_rows, missing_sequel_rows
from sender.register.sheets.banner import RECALCULATE_EVERY_MINUTE, banner_requests, is_banner
from sender.register.sheets.formatting import format_requests
from sender.register.sheets.protecting import (
    officers_of,
    officers_without_account,
    protection_requests,
)
from sender.register.sheets.rows import header_positions
from sender.text import neutralise

METADATA_FIELDS = (
    "spreadsheetId,properties(title,autoRecalc,timeZone),"
    "sheets(properties(sheetId,title,index,gridProperties),protectedRanges)"
)
DEFAULT_ROWS = 1000
DEFAULT_COLUMNS = 26


@dataclass(slots=True)
class TabInfo:
    sheet_id: int
    row_count: int
    column_count: int
    protected: list[dict[str, Any]] = field(default_factory=list)


_SCHEMA_TABS = {tab.casefold(): tab for tab in schema.COLUMNS}


def tabs_of(meta: Mapping[str, Any]) -> dict[str, TabInfo]:
    """Tab title → `TabInfo`, from a spreadsheet metadata response (`METADATA_FIELDS`).

    Google keeps tab titles unique whatever their case and reads ranges in any case: a tab
    renamed `inscriptions` is the register's `Inscriptions` (and `initialiser` must not try to
    add a second one, which Google would refuse)."""
    tabs: dict[str, TabInfo] = {}
    for sheet in meta.get("sheets", []):
        props = sheet.get("properties", {})
        grid = props.get("gridProperties", {})
        title = str(props.get("title", ""))
        tabs[_SCHEMA_TABS.get(title.casefold(), title)] = TabInfo(
            sheet_id=int(props.get("sheetId", 0)),
            row_count=int(grid.get("rowCount", DEFAULT_ROWS)),
            column_count=int(grid.get("columnCount", DEFAULT_COLUMNS)),
            protected=list(sheet.get("protectedRanges", [])),
        )
    return tabs


_WHOLE_TABS = (schema.MODELES, schema.HABILITATIONS)


def recalculates_every_minute(meta: Mapping[str, Any]) -> bool:
    """Whether the spreadsheet (metadata `METADATA_FIELDS`) recalculates every minute in the
    heartbeat's time zone, as the `Alertes` banner needs."""
    props = meta.get("properties", {})
    return props.get("autoRecalc") == "MINUTE" and props.get("timeZone") == "Europe/Paris"


def initialise_ranges(tabs: Mapping[str, TabInfo]) -> tuple[list[str], list[str]]:
    """Schema tabs present in the sheet, and the ranges `initialise` reads for them (the header
    row; the whole tab for the templates and the officers)."""
    existing = [t for t in schema.COLUMNS if t in tabs]
    ranges = [absolute_range_name(t, None if t in _WHOLE_TABS else "1:1") for t in existing]
    return existing, ranges


Request = dict[str, Any]


@dataclass
class _Requests:
    """What `plan_initialise` asks of the sheet: structure first, then formatting, and values."""

    structure: list[Request] = field(default_factory=list)
    formatting: list[Request] = field(default_factory=list)
    data: list[Request] = field(default_factory=list)


def plan_initialise(
    tabs: Mapping[str, TabInfo],
    contents: Mapping[str, list[list[Any]]],
    report: InitReport,
    *,
    templates: bool,
    recalculates: bool = False,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`:batchUpdate` requests (structure, then formatting) and `values:batchUpdate` data that
    complete the sheet; the changes are noted in `report`.

    The phases: each schema tab completed (missing columns) or created, then formatted; the
    protections from the officers' accounts; the default message templates if `Modeles` is
    new or empty; the `Alertes` banner, and recalculation every minute unless the spreadsheet
    already `recalculates` so (in Europe/Paris time)."""
    requests = _Requests()
    if not recalculates:
        requests.structure.append(RECALCULATE_EVERY_MINUTE)
        report.formatting.append("feuille recalculée chaque minute (heure de Paris)")
    next_id = max((info.sheet_id for info in tabs.values()), default=0) + 1
    modeles_positions: dict[str, int] = {}
    etat_positions: dict[str, int] = {}
    sheet_ids: dict[str, int] = {}
    refresh: tuple[str, ...] = ()
    for tab, columns in schema.COLUMNS.items():
        if tab in tabs:
            info = tabs[tab]
            sheet_id, protected = info.sheet_id, info.protected
            positions, new_columns = _complete_headers(
                tab, columns, info, contents.get(tab, []), requests, report
            )
            if tab == schema.ALERTES and new_columns:
                # Made by an earlier version: its lists lack the values added since
                # (« annulée », « suite »…); `Modeles` comes after `Alertes` in the schema.
                refresh = ("statut", "type")
        else:
            sheet_id, protected = next_id, []
            next_id += 1
            positions, new_columns = _add_tab(tab, columns, sheet_id, requests, report)
        if tab == schema.MODELES:
            modeles_positions = positions
        if tab == schema.ETAT:
            etat_positions = positions
        sheet_ids[tab] = sheet_id
        requests.formatting.extend(format_requests(
            tab, sheet_id, positions, new_columns, protected, report,
            refresh=refresh if tab in (schema.ALERTES, schema.MODELES) else (),
        ))
    _protect_for_officers(tabs, contents.get(schema.HABILITATIONS, []), sheet_ids, requests,
                          report)
    _add_banner(tabs, contents, sheet_ids, etat_positions, requests, report)
    modeles = contents.get(schema.MODELES, [])
    if templates and (schema.MODELES in report.created_tabs or not _filled_rows(modeles)):
        _add_default_templates(tabs.get(schema.MODELES), modeles_positions, requests, report)
    elif templates and "type" in modeles_positions:
        column = modeles_positions["type"]
        sequels = missing_sequel_rows(
            row[column] for row in modeles[1:] if len(row) > column
        )
        if sequels:
            _add_default_templates(tabs.get(schema.MODELES), modeles_positions, requests, report,
                                   rows=sequels, after=len(modeles))
    return requests.structure + requests.formatting, requests.data


def _complete_headers(
    tab: str,
    columns: tuple[str, ...],
    info: TabInfo,
    values: list[list[Any]],
    requests: _Requests,
    report: InitReport,
) -> tuple[dict[str, int], set[str]]:
    """An existing tab: the schema columns its header row lacks are appended after the last
    header (widening the grid if needed). Returns every column's position and the new ones."""
    header_row = list(values[0]) if values else []
    while header_row and not str(header_row[-1]).strip():
        header_row.pop()
    positions = header_positions(header_row)
    missing = [c for c in columns if c not in positions]
    if missing:
        start = len(header_row)
        if start + len(missing) > info.column_count:
            requests.structure.append({"appendDimension": {
                "sheetId": info.sheet_id, "dimension": "COLUMNS",
                "length": start + len(missing) - info.column_count,
            }})
        requests.data.append({"range": absolute_range_name(tab, rowcol_to_a1(1, start + 1)),
                              "values": [missing]})
        for offset, column in enumerate(missing):
            positions[column] = start + offset
        report.added_columns.extend(f"{tab}.{c}" for c in missing)
    return positions, set(missing)


def _add_tab(
    tab: str, columns: tuple[str, ...], sheet_id: int, requests: _Requests, report: InitReport
) -> tuple[dict[str, int], set[str]]:
    """A missing tab: created with its header row frozen. Returns positions and new columns."""
    requests.structure.append({"addSheet": {"properties": {
        "sheetId": sheet_id, "title": tab,
        "gridProperties": {
            "rowCount": DEFAULT_ROWS,
            "columnCount": max(DEFAULT_COLUMNS, len(columns)),
            "frozenRowCount": 1,
        },
    }}})
    requests.data.append({"range": absolute_range_name(tab, "A1"), "values": [list(columns)]})
    report.created_tabs.append(tab)
    report.formatting.append(f"{tab} : ligne d'en-têtes figée")
    return {c: i for i, c in enumerate(columns)}, set(columns)


def _add_banner(
    tabs: Mapping[str, TabInfo],
    contents: Mapping[str, list[list[Any]]],
    sheet_ids: dict[str, int],
    etat: dict[str, int],
    requests: _Requests,
    report: InitReport,
) -> None:
    """The `Alertes` banner after its last header, once (see `banner`)."""
    values = contents.get(schema.ALERTES, [])
    header_row = [str(c or "") for c in (values[0] if values else [])]
    if any(is_banner(c) for c in header_row):
        return
    while header_row and not header_row[-1].strip():
        header_row.pop()
    info = tabs.get(schema.ALERTES)
    added = sum(1 for c in report.added_columns if c.startswith(f"{schema.ALERTES}."))
    column = len(header_row) + added if info else len(schema.COLUMNS[schema.ALERTES])
    grid = max(info.column_count, column) if info else max(
        DEFAULT_COLUMNS, len(schema.COLUMNS[schema.ALERTES]))
    banner = banner_requests(sheet_ids[schema.ALERTES], column, etat)
    if not banner:
        report.warnings.append("bandeau de l'onglet Alertes non ajouté : dans Etat, la colonne "
                               "valeur doit être à droite de la colonne cle")
        return
    if column + 1 > grid:
        requests.structure.append({"appendDimension": {
            "sheetId": sheet_ids[schema.ALERTES], "dimension": "COLUMNS",
            "length": column + 1 - grid}})
    requests.formatting.extend(banner)
    report.formatting.append(
        "Alertes : bandeau « Envoi arrêté depuis … : prévenir la CMA » en rouge quand "
        "l'expéditeur ne donne plus signe de vie depuis 3 minutes (feuille recalculée chaque "
        "minute)")


def _protect_for_officers(
    tabs: Mapping[str, TabInfo],
    habilitations: list[list[Any]],
    sheet_ids: dict[str, int],
    requests: _Requests,
    report: InitReport,
) -> None:
    """Protections from the officers' Google accounts; a warning for each officer without."""
    requests.formatting.extend(protection_requests(
        sheet_ids, {t: info.protected for t, info in tabs.items()},
        officers_of(habilitations), report,
    ))
    for identifiant in officers_without_account(habilitations):
        report.warnings.append(
            f"agent {identifiant} sans adresse Google dans la colonne email de Habilitations : "
            "il ne pourra pas remplir l'onglet Alertes"
        )


def _filled_rows(values: list[list[Any]]) -> int:
    """Rows below the header with at least one non-blank cell."""
    return sum(1 for row in values[1:] if any(str(v).strip() for v in row))


def _add_default_templates(
    modeles: TabInfo | None,
    positions: dict[str, int],
    requests: _Requests,
    report: InitReport,
    *,
    rows: list[dict[str, str]] | None = None,
    after: int = 1,
) -> None:
    """The default message templates (or `rows`) written under the `Modeles` headers, column by
    column, below its first `after` rows (the header row, or every row with something in it)."""
    width = max(positions.values()) + 1
    lines = []
    for template in default_template_rows() if rows is None else rows:
        line: list[str | None] = [None] * width
        for name, index in positions.items():
            line[index] = neutralise(template.get(name, ""))
        lines.append(line)
    if modeles is not None and modeles.row_count < after + len(lines):
        requests.structure.append({"appendDimension": {
            "sheetId": modeles.sheet_id, "dimension": "ROWS",
            "length": after + len(lines) - modeles.row_count,
        }})
    requests.data.append(
        {"range": absolute_range_name(schema.MODELES, f"A{after + 1}"), "values": lines}
    )
    what = "modèles de message par défaut" if rows is None else "modèles des suites d'alerte"
    report.added_rows.append(f"{schema.MODELES} : {what}")
