"""Register backend on a Google Sheet, through gspread's plain `HTTPClient`.

Request budget (quota: 60 reads and 60 writes per minute and per user):

- `read`: one `values:batchGet` for all requested tabs; the sheet's tab list comes from one
  metadata request per instance (refreshed at most every `metadata_ttl` seconds when a requested
  tab is missing, or at once when the sheet no longer has a tab we knew).
- `write`: one `values:batchUpdate` (RAW); none when there is nothing to write.
- `append`: one `values:batchGet` for fresh headers (whole tab when ids must be assigned), then
  one `values:append` (RAW, INSERT_ROWS).
- `initialise`: metadata + one `values:batchGet`, then at most one `:batchUpdate` (new tabs and
  formatting) and one `values:batchUpdate` (headers, default templates); nothing is written when
  the register is already complete.

Every call goes through a bounded retry (exponential backoff with jitter) on 429, 5xx and
network failures. Requests that must not run twice (`append`, the formatting batch) are not
blindly retried after an ambiguous failure (timeout, cut connection): `append` first checks
whether its rows landed.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import gspread
import requests
from gspread.exceptions import APIError

from sender import schema
from sender.defaults import default_template_rows
from sender.errors import ConfigurationError, RegisterError, RegisterUnavailable
from sender.ids import next_free_id, numeric_id
from sender.register.base import CellChange, InitReport, Register, Row, Table
from sender.textsafe import neutralise

try:  # google-auth is a gspread dependency; its errors appear when the token is refreshed.
    from google.auth.exceptions import RefreshError, TransportError
except ImportError:  # pragma: no cover
    RefreshError = TransportError = ()  # type: ignore[assignment,misc]

T = TypeVar("T")

SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
_RETRY_STATUS = frozenset({408, 429, 500, 502, 503, 504})
_URL_KEY = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]{20,})")
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]{30,100}")
_RANGE_ROWS = re.compile(r"!\$?[A-Za-z]*\$?(\d+)(?::\$?[A-Za-z]*\$?(\d+))?$")
_METADATA_FIELDS = (
    "spreadsheetId,properties.title,"
    "sheets(properties(sheetId,title,index,gridProperties),protectedRanges)"
)
_PROTECTION_NOTE = (
    "Colonne remplie par l'expéditeur Alerte Message : ne la modifiez pas à la main "
    "(statuts et résultats d'envoi)."
)
_DEFAULT_ROWS = 1000
_DEFAULT_COLUMNS = 26

# (tab or None for every tab, column) → (allowed values, strict)
_CHOICES: dict[tuple[str | None, str], tuple[tuple[str, ...], bool]] = {
    (schema.INSCRIPTIONS, "statut"): (schema.INSCRIPTION_STATUSES, True),
    (schema.ALERTES, "statut"): (schema.ALERT_STATUSES, True),
    (None, "type"): (schema.ALERT_TYPES, True),
    (None, "activite"): (schema.ACTIVITES, False),
    (None, "cible_zone"): (schema.TARGET_ZONES, True),
}


def parse_sheet_key(text: str | None) -> str | None:
    """The spreadsheet key in a Google Sheets URL or a bare key; `None` for anything else."""
    if not text:
        return None
    text = text.strip()
    match = _URL_KEY.search(text)
    if match and ("docs.google.com" in text or "sheets.googleapis.com" in text):
        return match.group(1)
    if _BARE_KEY.fullmatch(text):
        return text
    return None


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _quote_tab(tab: str) -> str:
    return "'" + tab.replace("'", "''") + "'"


def _rows_of(updated_range: str) -> tuple[int, int] | None:
    match = _RANGE_ROWS.search(updated_range or "")
    if not match:
        return None
    first = int(match.group(1))
    return first, int(match.group(2) or first)


class _Ambiguous(Exception):
    """A request may or may not have been applied (timeout or cut connection after sending)."""


class _Refused(RegisterError):
    """Google answered with a non-retryable client error."""

    def __init__(self, message: str, status: int, api_message: str) -> None:
        super().__init__(message)
        self.status = status
        self.api_message = api_message


@dataclass(slots=True)
class _TabInfo:
    sheet_id: int
    row_count: int
    column_count: int
    protected: list[dict[str, Any]] = field(default_factory=list)


class GoogleSheetsRegister(Register):
    """Tabs of a Google Sheet; row keys are sheet row numbers (2 for the first data row)."""

    def __init__(
        self,
        key: str,
        client: gspread.Client,
        *,
        timeout: float = 20,
        max_attempts: int = 6,
        base_delay: float = 1.0,
        max_delay: float = 32.0,
        sleep: Callable[[float], None] = time.sleep,
        metadata_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.key = key
        self._client = client
        self._http = client.http_client
        self._http.set_timeout(timeout)
        self._max_attempts = max_attempts
        self._base_delay = base_delay
        self._max_delay = max_delay
        self._sleep = sleep
        self._clock = clock
        self._metadata_ttl = metadata_ttl
        self._random = random.Random()  # noqa: S311 - jitter, not security
        self._tabs: dict[str, _TabInfo] | None = None
        self._tabs_at = 0.0
        self._title: str | None = None
        # Header positions seen by the last read of each tab: name → 0-based column.
        self._positions: dict[str, dict[str, int]] = {}

    @classmethod
    def from_service_account(
        cls, key: str, credentials_path: str, **options: Any
    ) -> GoogleSheetsRegister:
        """Open the sheet with a service-account JSON key file (kept outside the repository)."""
        try:
            client = gspread.service_account(filename=credentials_path, scopes=[SHEETS_SCOPE])
        except FileNotFoundError as exc:
            raise ConfigurationError(
                f"Fichier du compte de service introuvable : {credentials_path} "
                "(GOOGLE_APPLICATION_CREDENTIALS)."
            ) from exc
        except (ValueError, KeyError, OSError) as exc:
            raise ConfigurationError(
                f"Le fichier {credentials_path} n'est pas une clé de compte de service Google "
                "valide (fichier JSON téléchargé depuis la console Google Cloud)."
            ) from exc
        return cls(key, client, **options)

    def describe(self) -> str:
        short = self.key if len(self.key) <= 8 else self.key[:8] + "…"
        if self._title:
            return f"Google Sheet « {self._title} » {short} (Google Sheets)"
        return f"Google Sheet {short} (Google Sheets)"

    # -- transport -----------------------------------------------------------------------

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        ceiling = min(self._max_delay, self._base_delay * 2 ** (attempt - 1))
        delay = ceiling / 2 + self._random.uniform(0, ceiling / 2)
        retry_after = response.headers.get("Retry-After") if response is not None else None
        if retry_after and numeric_id(retry_after) is not None:
            delay = max(delay, min(self._max_delay, float(retry_after)))
        return delay

    def _account(self) -> str:
        email = getattr(getattr(self._http, "auth", None), "service_account_email", None)
        return f" ({email})" if isinstance(email, str) and "@" in email else ""

    def _refused(self, exc: APIError) -> _Refused:
        status = exc.response.status_code
        api_message = str(exc.error.get("message", "")) if isinstance(exc.error, Mapping) else ""
        if status in (401, 403):
            message = (
                f"Accès refusé à la feuille Google {self.key} : partagez-la en tant "
                f"qu'éditeur avec l'adresse du compte de service{self._account()}."
            )
        elif status == 404:
            message = (
                f"Feuille Google introuvable : {self.key}. Vérifiez l'adresse ou la clé "
                "indiquée dans ALERTE_REGISTRE."
            )
        else:
            message = f"Google Sheets a refusé la requête (erreur {status}) : {api_message}"
        return _Refused(message, status, api_message)

    def _call(self, fn: Callable[..., T], *args: Any, idempotent: bool = True) -> T:
        """Run one API call with bounded retries; raise French `RegisterError`s."""
        reason = ""
        for attempt in range(1, self._max_attempts + 1):
            response = None
            try:
                return fn(*args)
            except APIError as exc:
                response = exc.response
                status = response.status_code
                if status not in _RETRY_STATUS:
                    raise self._refused(exc) from exc
                reason = (
                    "refuse les requêtes (quota dépassé)" if status == 429
                    else f"est indisponible (erreur {status})"
                )
            except RefreshError as exc:
                raise RegisterError(
                    "Google a refusé les identifiants du compte de service : vérifiez le "
                    "fichier indiqué dans GOOGLE_APPLICATION_CREDENTIALS."
                ) from exc
            except requests.ConnectTimeout:
                reason = "ne répond pas (connexion impossible)"
            except (requests.Timeout, requests.ConnectionError,
                    requests.exceptions.ChunkedEncodingError) as exc:
                if not idempotent and not _never_sent(exc):
                    raise _Ambiguous() from exc
                reason = "ne répond pas (délai dépassé ou connexion coupée)"
            except TransportError:
                reason = "ne répond pas (connexion impossible)"
            if attempt < self._max_attempts:
                self._sleep(self._delay(attempt, response))
        raise RegisterUnavailable(
            f"Google Sheets {reason} après {self._max_attempts} tentatives ; nouvel essai au "
            "prochain passage."
        )

    # -- metadata and headers ------------------------------------------------------------

    def _metadata(self, *, refresh: bool = False) -> dict[str, _TabInfo]:
        if self._tabs is not None and not refresh:
            return self._tabs
        meta = self._call(
            self._http.fetch_sheet_metadata,
            self.key,
            {"includeGridData": "false", "fields": _METADATA_FIELDS},
        )
        tabs: dict[str, _TabInfo] = {}
        for sheet in meta.get("sheets", []):
            props = sheet.get("properties", {})
            grid = props.get("gridProperties", {})
            tabs[props.get("title", "")] = _TabInfo(
                sheet_id=int(props.get("sheetId", 0)),
                row_count=int(grid.get("rowCount", _DEFAULT_ROWS)),
                column_count=int(grid.get("columnCount", _DEFAULT_COLUMNS)),
                protected=list(sheet.get("protectedRanges", [])),
            )
        self._title = meta.get("properties", {}).get("title") or self._title
        self._tabs = tabs
        self._tabs_at = self._clock()
        return tabs

    def _batch_get(self, ranges: list[str]) -> list[list[list[Any]]]:
        response = self._call(
            self._http.values_batch_get,
            self.key,
            ranges,
            {"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"},
        )
        value_ranges = response.get("valueRanges", [])
        return [vr.get("values", []) for vr in value_ranges]

    @staticmethod
    def _header_positions(header_row: Sequence[Any]) -> dict[str, int]:
        positions: dict[str, int] = {}
        for index, cell in enumerate(header_row):
            name = str(cell).strip() if cell is not None else ""
            if name and name not in positions:
                positions[name] = index
        return positions

    def _table(self, tab: str, values: list[list[Any]]) -> Table:
        positions = self._header_positions(values[0] if values else [])
        self._positions[tab] = positions
        rows: list[Row] = []
        for number, raw in enumerate(values[1:], start=2):
            cells = ["" if v is None else str(v) for v in raw]
            if not any(c.strip() for c in cells):
                continue
            width = len(cells)
            rows.append(
                Row(number, {h: cells[i] if i < width else "" for h, i in positions.items()})
            )
        return Table(tab, list(positions), rows)

    def _fresh_tabs(self, wanted: Iterable[str]) -> dict[str, _TabInfo]:
        """Metadata, refreshed when a wanted tab is missing and the cache is old enough."""
        tabs = self._metadata()
        if any(t not in tabs for t in wanted) and (
            self._clock() - self._tabs_at >= self._metadata_ttl
        ):
            tabs = self._metadata(refresh=True)
        return tabs

    # -- Register API --------------------------------------------------------------------

    def read(self, tabs: Sequence[str]) -> dict[str, Table]:
        wanted = list(dict.fromkeys(tabs))
        tables: dict[str, Table] = {}
        for attempt in (1, 2):
            known = self._fresh_tabs(wanted)
            present = [t for t in wanted if t in known]
            if not present:
                break
            try:
                values = self._batch_get([_quote_tab(t) for t in present])
            except _Refused as exc:
                # A tab was deleted or renamed since the metadata was cached: refresh once.
                if attempt == 1 and exc.status == 400 and "parse range" in exc.api_message:
                    self._metadata(refresh=True)
                    continue
                raise
            tables = {tab: self._table(tab, v) for tab, v in zip(present, values, strict=False)}
            break
        result: dict[str, Table] = {}
        for tab in wanted:
            if tab in tables:
                result[tab] = tables[tab]
            else:
                result[tab] = Table(tab, list(schema.COLUMNS.get(tab, ())), [])
        return result

    def _positions_for(
        self, tabs: set[str], *, stale: Iterable[str] = ()
    ) -> dict[str, dict[str, int]]:
        """Header positions from the last read; `stale` tabs (or unread ones) are fetched."""
        missing = sorted({t for t in tabs if t not in self._positions} | set(stale))
        if missing:
            known = self._fresh_tabs(missing)
            absent = [t for t in missing if t not in known]
            if absent:
                raise RegisterError(
                    f"L'onglet « {absent[0]} » n'existe pas dans la feuille Google : lancez "
                    "« alerte-message initialiser »."
                )
            values = self._batch_get([f"{_quote_tab(t)}!1:1" for t in missing])
            for tab, rows in zip(missing, values, strict=False):
                self._positions[tab] = self._header_positions(rows[0] if rows else [])
        return {t: self._positions[t] for t in tabs}

    @staticmethod
    def _column(positions: Mapping[str, int], tab: str, column: str) -> int:
        index = _find_column(positions, column)
        if index is not None:
            return index
        raise RegisterError(
            f"La colonne « {column} » manque dans l'onglet « {tab} » : lancez "
            "« alerte-message initialiser »."
        )

    def write(self, changes: Iterable[CellChange]) -> int:
        pending = list(changes)
        if not pending:
            return 0
        tabs = {c.tab for c in pending}
        positions = self._positions_for(tabs)
        unknown = {c.tab for c in pending if not _has_column(positions[c.tab], c.column)}
        if unknown:  # staff may have added a column since our last read
            positions = self._positions_for(tabs, stale=unknown)
        cells: dict[str, dict[int, dict[int, str]]] = {}
        for change in pending:
            if change.key < 2:
                raise RegisterError(
                    f"Ligne {change.key} invalide dans l'onglet « {change.tab} » : la ligne 1 "
                    "porte les en-têtes."
                )
            index = self._column(positions[change.tab], change.tab, change.column)
            row = cells.setdefault(change.tab, {}).setdefault(change.key, {})
            row[index] = neutralise(change.value)
        data = [item for tab, rows in cells.items() for item in _ranges(tab, rows)]
        self._call(
            self._http.values_batch_update,
            self.key,
            {"valueInputOption": "RAW", "data": data},
        )
        return sum(len(row) for rows in cells.values() for row in rows.values())

    def append(self, tab: str, rows: Sequence[Mapping[str, str]]) -> list[int]:
        rows = list(rows)
        if not rows:
            return []
        known = self._fresh_tabs([tab])
        if tab not in known:
            known = self._metadata(refresh=True)
        if tab not in known:
            if tab not in schema.COLUMNS:
                raise RegisterError(f"L'onglet « {tab} » n'existe pas dans la feuille Google.")
            self._initialise(templates=False)
        needs_id = any(not str(r.get("id", "") or "").strip() for r in rows) and (
            "id" in schema.COLUMNS.get(tab, ()) or "id" in self._positions.get(tab, {})
        )
        (values,) = self._batch_get([_quote_tab(tab) if needs_id else f"{_quote_tab(tab)}!1:1"])
        positions = self._header_positions(values[0] if values else [])
        if not positions:
            raise RegisterError(
                f"L'onglet « {tab} » n'a pas de ligne d'en-têtes : lancez « alerte-message "
                "initialiser »."
            )
        self._positions[tab] = positions
        records = [{h: neutralise(str(r.get(h, "") or "")) for h in positions} for r in rows]
        if needs_id and "id" in positions:
            _assign_ids(records, values[1:], positions["id"])
        width = max(positions.values()) + 1
        body_rows = []
        for record in records:
            line = [""] * width
            for name, index in positions.items():
                line[index] = record[name]
            body_rows.append(line)
        try:
            response = self._call(
                self._http.values_append,
                self.key,
                f"{_quote_tab(tab)}!A1",
                {"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
                {"majorDimension": "ROWS", "values": body_rows},
                idempotent=False,
            )
        except _Ambiguous:
            return self._recover_append(tab, body_rows)
        span = _rows_of(response.get("updates", {}).get("updatedRange", ""))
        if span is None:
            raise RegisterError(
                f"Réponse inattendue de Google Sheets après l'ajout dans « {tab} » : "
                "vérifiez les dernières lignes de l'onglet."
            )
        return [span[0] + i for i in range(len(body_rows))]

    def _recover_append(self, tab: str, body_rows: list[list[str]]) -> list[int]:
        """After an ambiguous failure: find our rows at the end of the tab, or append again."""
        for _ in range(self._max_attempts):
            (values,) = self._batch_get([_quote_tab(tab)])
            found = _find_block(values, body_rows)
            if found is not None:
                return [found + i for i in range(len(body_rows))]
            try:
                response = self._call(
                    self._http.values_append,
                    self.key,
                    f"{_quote_tab(tab)}!A1",
                    {"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
                    {"majorDimension": "ROWS", "values": body_rows},
                    idempotent=False,
                )
            except _Ambiguous:
                self._sleep(self._base_delay)
                continue
            span = _rows_of(response.get("updates", {}).get("updatedRange", ""))
            if span is not None:
                return [span[0] + i for i in range(len(body_rows))]
        raise RegisterUnavailable(
            f"Google Sheets ne répond pas pendant l'ajout dans « {tab} » ; les lignes ont "
            "peut-être été enregistrées : vérifiez l'onglet avant de recommencer."
        )

    def initialise(self) -> InitReport:
        return self._initialise(templates=True)

    def _initialise(self, *, templates: bool) -> InitReport:
        report = InitReport()
        tabs = self._metadata(refresh=True)
        existing = [t for t in schema.COLUMNS if t in tabs]
        ranges = [
            _quote_tab(t) if t == schema.MODELES else f"{_quote_tab(t)}!1:1" for t in existing
        ]
        contents = dict(zip(existing, self._batch_get(ranges), strict=False)) if ranges else {}
        next_id = max((info.sheet_id for info in tabs.values()), default=0) + 1
        structure: list[dict[str, Any]] = []
        formatting: list[dict[str, Any]] = []
        data: list[dict[str, Any]] = []
        modeles_positions: dict[str, int] = {}
        modeles_rows = 0

        for tab, columns in schema.COLUMNS.items():
            if tab in tabs:
                info = tabs[tab]
                values = contents.get(tab, [])
                header_row = list(values[0]) if values else []
                while header_row and not str(header_row[-1]).strip():
                    header_row.pop()
                positions = self._header_positions(header_row)
                missing = [c for c in columns if c not in positions]
                if missing:
                    start = len(header_row)
                    if start + len(missing) > info.column_count:
                        structure.append({"appendDimension": {
                            "sheetId": info.sheet_id, "dimension": "COLUMNS",
                            "length": start + len(missing) - info.column_count,
                        }})
                    data.append({"range": f"{_quote_tab(tab)}!{column_letter(start)}1",
                                 "values": [missing]})
                    for offset, column in enumerate(missing):
                        positions[column] = start + offset
                    report.added_columns.extend(f"{tab}.{c}" for c in missing)
                if tab == schema.MODELES:
                    modeles_rows = sum(
                        1 for row in values[1:] if any(str(v).strip() for v in row)
                    )
                new_columns = set(missing)
                sheet_id = info.sheet_id
                protected = info.protected
            else:
                sheet_id = next_id
                next_id += 1
                structure.append({"addSheet": {"properties": {
                    "sheetId": sheet_id, "title": tab,
                    "gridProperties": {
                        "rowCount": _DEFAULT_ROWS,
                        "columnCount": max(_DEFAULT_COLUMNS, len(columns)),
                        "frozenRowCount": 1,
                    },
                }}})
                data.append({"range": f"{_quote_tab(tab)}!A1", "values": [list(columns)]})
                positions = {c: i for i, c in enumerate(columns)}
                new_columns = set(columns)
                protected = []
                report.created_tabs.append(tab)
                report.formatting.append(f"{tab} : ligne d'en-têtes figée")
            if tab == schema.MODELES:
                modeles_positions = positions
            formatting.extend(self._format_requests(
                tab, sheet_id, positions, new_columns, protected, report
            ))

        if templates and (schema.MODELES in report.created_tabs or modeles_rows == 0):
            rows = default_template_rows()
            width = max(modeles_positions.values()) + 1
            lines = []
            for template in rows:
                line: list[str | None] = [None] * width
                for name, index in modeles_positions.items():
                    line[index] = neutralise(template.get(name, ""))
                lines.append(line)
            info = tabs.get(schema.MODELES)
            if info is not None and info.row_count < 1 + len(lines):
                structure.append({"appendDimension": {
                    "sheetId": info.sheet_id, "dimension": "ROWS",
                    "length": 1 + len(lines) - info.row_count,
                }})
            data.append({"range": f"{_quote_tab(schema.MODELES)}!A2", "values": lines})
            report.added_rows.append(f"{schema.MODELES} : modèles de message par défaut")

        requests_ = structure + formatting
        if requests_:
            try:
                self._call(self._http.batch_update, self.key, {"requests": requests_},
                           idempotent=False)
            except _Ambiguous:
                self._tabs = None
                raise RegisterUnavailable(
                    "Google Sheets n'a pas confirmé la création des onglets ; relancez "
                    "« alerte-message initialiser » (sans risque : l'opération est "
                    "idempotente)."
                ) from None
        if data:
            self._call(self._http.values_batch_update, self.key,
                       {"valueInputOption": "RAW", "data": data})
        if report.changed:
            self._tabs = None
            self._positions.clear()
        return report

    def _format_requests(
        self,
        tab: str,
        sheet_id: int,
        positions: Mapping[str, int],
        new_columns: set[str],
        protected: list[dict[str, Any]],
        report: InitReport,
    ) -> list[dict[str, Any]]:
        requests_: list[dict[str, Any]] = []
        for column in sorted(new_columns, key=lambda c: positions[c]):
            index = positions[column]
            choice = _CHOICES.get((tab, column)) or _CHOICES.get((None, column))
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
            if c in positions and not _covered(protected, positions[c])
        )
        for start, end in _runs(unprotected):
            requests_.append({"addProtectedRange": {"protectedRange": {
                "range": {"sheetId": sheet_id, "startColumnIndex": start,
                          "endColumnIndex": end},
                "description": _PROTECTION_NOTE,
                "warningOnly": True,
            }}})
            names = [n for n, i in positions.items() if start <= i < end]
            report.formatting.append(
                f"{tab} : colonnes {', '.join(names)} protégées (avertissement)"
            )
        return requests_


# -- helpers ---------------------------------------------------------------------------------


def _find_column(positions: Mapping[str, int], column: str) -> int | None:
    if column in positions:
        return positions[column]
    folded = column.strip().casefold()
    for name, index in positions.items():
        if name.casefold() == folded:
            return index
    return None


def _has_column(positions: Mapping[str, int], column: str) -> bool:
    return _find_column(positions, column) is not None


def _never_sent(exc: Exception) -> bool:
    """True when a connection error happened before the request reached the server."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc)
    return "NewConnectionError" in text or "Failed to establish" in text


_MERGE_NULLS = 10  # a new range costs about as many bytes as ten `null` cells


def _ranges(tab: str, rows: Mapping[int, Mapping[int, str]]) -> list[dict[str, Any]]:
    """Few ranges for the changed cells of one tab; cells in between are `null` (left as is).

    Consecutive rows share a range when widening it costs fewer `null`s than a new range.
    """
    result: list[dict[str, Any]] = []
    run: list[dict[int, str]] = []
    first = last = run_start = 0

    def flush() -> None:
        if run:
            result.append({
                "range": f"{_quote_tab(tab)}!{column_letter(first)}{run_start}:"
                         f"{column_letter(last)}{run_start + len(run) - 1}",
                "majorDimension": "ROWS",
                "values": [[cells.get(i) for i in range(first, last + 1)] for cells in run],
            })

    for key in sorted(rows):
        cells = rows[key]
        low, high = min(cells), max(cells)
        if run and key == run_start + len(run):
            new_first, new_last = min(first, low), max(last, high)
            widen = (new_last - new_first - (last - first)) * len(run)
            widen += (new_last - new_first) - (high - low)
            if widen <= _MERGE_NULLS:
                run.append(cells)
                first, last = new_first, new_last
                continue
        flush()
        run, first, last, run_start = [cells], low, high, key
    flush()
    return result


def _assign_ids(records: list[dict[str, str]], existing: list[list[Any]], column: int) -> None:
    """Fill empty `id`s with fresh integers, like the SQLite backend."""
    next_id = next_free_id(row[column] for row in existing if column < len(row))
    for record in records:
        value = record["id"].strip()
        if value:
            given = numeric_id(value)
            if given is not None:
                next_id = max(next_id, given + 1)
        else:
            record["id"] = str(next_id)
            next_id += 1


def _find_block(values: list[list[Any]], block: list[list[str]]) -> int | None:
    """Sheet row number where `block` sits, searching from the end of the tab."""

    def norm(row: Sequence[Any]) -> tuple[str, ...]:
        cells = ["" if v is None else str(v) for v in row]
        while cells and cells[-1] == "":
            cells.pop()
        return tuple(cells)

    wanted = [norm(r) for r in block]
    rows = [norm(r) for r in values]
    for start in range(len(rows) - len(wanted), 0, -1):
        if rows[start : start + len(wanted)] == wanted:
            return start + 1
    return None


def _covered(protected: Iterable[Mapping[str, Any]], column: int) -> bool:
    for item in protected:
        grid = item.get("range", {})
        start = grid.get("startColumnIndex", 0)
        end = grid.get("endColumnIndex")
        if start <= column and (end is None or column < end):
            return True
    return False


def _runs(indexes: Sequence[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for index in indexes:
        if runs and runs[-1][1] == index:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs
