"""Register backend on a Google Sheet, through gspread's plain `HTTPClient`.

Request budget (quota: 60 reads and 60 writes per minute and per user):

- `read`: one `values:batchGet` for all requested tabs; the sheet's tab list comes from one
  metadata request per instance (refreshed at most every `metadata_ttl` seconds when a requested
  tab is missing, or at once when the sheet no longer has a tab we knew).
- `write`: one `values:batchGet` of where the rows are now (header row and `id` column, or the
  whole tab), then one `values:batchUpdate` (RAW) addressing rows by identity
  (`register.identity`); none when there is nothing to write.
- `append`: one `values:batchGet` of the tab (headers, next free id, last row with data), then
  one `values:append` (RAW, INSERT_ROWS) from the row below the last one with data.
- `initialise`: metadata + one `values:batchGet`, then at most one `:batchUpdate` (new tabs and
  formatting) and one `values:batchUpdate` (headers, default templates); nothing is written when
  the register is already complete.

Every call goes through a bounded retry (exponential backoff with jitter) on 429, 5xx and
network failures. Requests that must not run twice (`append`, the formatting batch) are not
blindly retried after an ambiguous failure (timeout, cut connection): `append` first checks
whether its rows landed.

Helpers live beside this module: `a1` (A1 ranges, batchUpdate ranges), `retry` (retry and
error translation), `session` (API calls, cached tab list), `rows` (headers, tables, blocks),
`layout` and `formatting` (what `initialise` sends).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import gspread
from gspread.utils import absolute_range_name, rowcol_to_a1

from sender import schema
from sender.config import GOOGLE_SHEETS_API
from sender.errors import RegisterError, RegisterUnavailable, RetryPolicy
from sender.register.base import InitReport, Register
from sender.register.identity import (
    IDENTITY_COLUMN,
    Identities,
    RowIdentity,
    locate,
    locate_by_id,
    needs_content,
)
from sender.register.ids import fill_ids, next_free_id
from sender.register.protection import PROTECTED_TABS, Protection
from sender.register.protection import parse as parse_protection
from sender.register.sheets.a1 import cell_ranges, first_row
from sender.register.sheets.endpoint import sheets_client
from sender.register.sheets.layout import initialise_ranges, plan_initialise
from sender.register.sheets.protecting import (
    description_requests,
    officers_of,
    sets_protection,
)
from sender.register.sheets.retry import Ambiguous, Refused, Retrier
from sender.register.sheets.rows import (
    find_block,
    header_positions,
    lines_of,
    require_column,
    table_of,
)
from sender.register.sheets.session import SheetsSession
from sender.tables import CellChange, Table
from sender.text import neutralise

log = logging.getLogger(__name__)

class GoogleSheetsRegister(Register):
    """Tabs of a Google Sheet; row keys are the sheet row numbers of the last read (2 for the
    first data row); writes find those rows again by identity."""

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
        self._http = client.http_client
        self._http.set_timeout(timeout)
        policy = RetryPolicy(max_attempts, base_delay, max_delay, max_wait=max_delay)
        self._retry = Retrier(key, self._http, policy, sleep)
        self._sheet = SheetsSession(
            key, self._http, self._retry, metadata_ttl=metadata_ttl, clock=clock
        )
        # Header positions seen by the last read of each tab: name → 0-based column.
        self._positions: dict[str, dict[str, int]] = {}
        # What identifies each row of the last read (see `register.identity`).
        self._identities = Identities()

    @classmethod
    def from_service_account(
        cls, key: str, credentials_path: str | None, *, api_url: str = GOOGLE_SHEETS_API,
        **options: Any,
    ) -> GoogleSheetsRegister:
        """Open the sheet with a service-account JSON key file (kept outside the repository),
        through the Sheets API at `api_url` (`GOOGLE_SHEETS_API_URL`; without a key only on a
        loopback address, see `endpoint`)."""
        return cls(key, sheets_client(credentials_path, api_url), **options)

    def describe(self) -> str:
        short = self.key if len(self.key) <= 8 else self.key[:8] + "…"
        if self._sheet.title:
            return f"Google Sheet « {self._sheet.title} » {short} (Google Sheets)"
        return f"Google Sheet {short} (Google Sheets)"

    def _table(self, tab: str, values: list[list[Any]], *, remember: bool = True) -> Table:
        """The tab's rows from fetched values; `remember` their identities (a read), or not
        (a look at where rows are now, before a write)."""
        positions = header_positions(values[0] if values else [])
        self._positions[tab] = positions
        table = table_of(tab, positions, values)
        if remember:
            self._identities.remember(tab, table.rows)
        return table

    # -- Register API --------------------------------------------------------------------

    def protections(self) -> dict[str, list[Protection]]:
        """The protections of `Alertes` and `Habilitations`, from one fresh metadata request."""
        tabs = self._sheet.metadata(refresh=True)
        return {
            tab: [parse_protection(p) for p in tabs[tab].protected] if tab in tabs else []
            for tab in PROTECTED_TABS
        }

    def _record_google_accounts(self, habilitations: list[list[Any]]) -> None:
        """Read back the protections just set and write in their descriptions the accounts
        Google added by itself (the owner, this service account)."""
        tabs = self._sheet.metadata(refresh=True)
        requests_ = description_requests(
            {t: tabs[t].protected for t in PROTECTED_TABS if t in tabs},
            officers_of(habilitations),
        )
        if requests_:
            self._sheet.call(self._http.batch_update, self.key, {"requests": requests_})

    def read(self, tabs: Sequence[str]) -> dict[str, Table]:
        return self._read(tabs, remember=True)

    def reread(self, tabs: Sequence[str]) -> dict[str, Table]:
        """Sheet row numbers move when rows are sorted or inserted: the identities of the
        cycle's read stay those its writes look for."""
        return self._read(tabs, remember=False)

    def _read(self, tabs: Sequence[str], *, remember: bool) -> dict[str, Table]:
        wanted = list(dict.fromkeys(tabs))
        tables: dict[str, Table] = {}
        for attempt in (1, 2):
            known = self._sheet.fresh_tabs(wanted)
            present = [t for t in wanted if t in known]
            if not present:
                break
            try:
                values = self._sheet.batch_get([absolute_range_name(t) for t in present])
            except Refused as exc:
                # A tab was deleted or renamed since the metadata was cached: refresh once.
                if attempt == 1 and exc.status == 400 and "parse range" in exc.api_message:
                    self._sheet.metadata(refresh=True)
                    continue
                raise
            tables = {
                tab: self._table(tab, v, remember=remember)
                for tab, v in zip(present, values, strict=False)
            }
            break
        return {tab: tables[tab] if tab in tables else Table.absent(tab) for tab in wanted}

    def write(self, changes: Iterable[CellChange]) -> int:
        """One `values:batchGet` of where the rows are now (header row and `id` column, or the
        whole tab when ids cannot tell the rows apart), then one `values:batchUpdate` (RAW)
        that targets each row by identity and each column by its current header: sorting,
        inserting or deleting rows and inserting or moving columns since the read never puts
        a value on another row or column. A row deleted since the read is skipped (logged)."""
        pending = list(changes)
        if not pending:
            return 0
        for change in pending:
            if change.key < 2:
                raise RegisterError(
                    f"Ligne {change.key} invalide dans l'onglet « {change.tab} » : la ligne 1 "
                    "porte les en-têtes."
                )
        tabs = sorted({c.tab for c in pending})
        known = self._sheet.fresh_tabs(tabs)
        absent = [t for t in tabs if t not in known]
        if absent:
            raise RegisterError(
                f"L'onglet « {absent[0]} » n'existe pas dans la feuille Google : lancez "
                "« alerte-message initialiser »."
            )
        wanted: dict[str, dict[int, RowIdentity]] = {}
        for change in pending:
            identity = self._identities.get(change.tab, change.key)
            if identity is not None:
                wanted.setdefault(change.tab, {})[change.key] = identity
        positions, moved = self._where_now(tabs, wanted)
        cells: dict[str, dict[int, dict[int, str]]] = {}
        lost: dict[str, set[int]] = {}
        for change in pending:
            if change.key in moved.get(change.tab, {}):
                row_number = moved[change.tab][change.key]
                if row_number is None:
                    lost.setdefault(change.tab, set()).add(change.key)
                    continue
            else:  # a key this register did not read: the row number itself
                row_number = change.key
            index = require_column(positions[change.tab], change.tab, change.column)
            row = cells.setdefault(change.tab, {}).setdefault(row_number, {})
            row[index] = neutralise(change.value)
        for tab, keys in lost.items():
            log.warning(
                "Feuille Google, onglet %s : %d ligne(s) supprimée(s) ou méconnaissable(s) "
                "depuis la lecture ; leurs cellules ne sont pas écrites.", tab, len(keys),
            )
        data = [item for tab, rows in cells.items() for item in cell_ranges(tab, rows)]
        if data:
            self._sheet.call(
                self._http.values_batch_update,
                self.key,
                {"valueInputOption": "RAW", "data": data},
            )
        self._after_write(pending, moved)
        return sum(len(row) for rows in cells.values() for row in rows.values())

    def _where_now(
        self, tabs: list[str], wanted: dict[str, dict[int, RowIdentity]]
    ) -> tuple[dict[str, dict[str, int]], dict[str, dict[int, int | None]]]:
        """Current header positions of `tabs`, and the current row number of each wanted row
        (None: gone). One request; a second only when the `id` column itself moved."""
        ranges: list[str] = []
        ids_column: dict[str, int] = {}
        for tab in tabs:
            column = IDENTITY_COLUMN.get(tab)
            last = self._positions.get(tab, {}).get(column or "")
            identities = list(wanted.get(tab, {}).values())
            if identities and column and last is not None and not needs_content(tab, identities):
                ids_column[tab] = last
                letter = rowcol_to_a1(1, last + 1)[:-1]
                ranges += [absolute_range_name(tab, "1:1"),
                           absolute_range_name(tab, f"{letter}:{letter}")]
            elif identities:
                ranges.append(absolute_range_name(tab))
            else:
                ranges.append(absolute_range_name(tab, "1:1"))
        fetched = iter(self._sheet.batch_get(ranges))
        positions: dict[str, dict[str, int]] = {}
        moved: dict[str, dict[int, int | None]] = {}
        again: list[str] = []
        for tab in tabs:
            identities = wanted.get(tab, {})
            if tab in ids_column:
                header, column_values = next(fetched), next(fetched)
                found = header_positions(header[0] if header else [])
                column = IDENTITY_COLUMN[tab]
                if found.get(column) != ids_column[tab]:
                    again.append(tab)  # the id column itself moved: read the whole tab
                    continue
                positions[tab] = found
                pairs = (
                    (number, str(cells[0]) if cells else "")
                    for number, cells in enumerate(column_values[1:], start=2)
                )
                moved[tab] = locate_by_id(tab, identities, pairs)
            else:
                values = next(fetched)
                table = self._table(tab, values, remember=False)
                positions[tab] = self._positions[tab]
                if identities:
                    rows = [(r.key, r.values) for r in table.rows]
                    moved[tab] = locate(tab, identities, rows)
        if again:
            for tab, values in zip(again, self._sheet.batch_get(
                    [absolute_range_name(t) for t in again]), strict=False):
                table = self._table(tab, values, remember=False)
                positions[tab] = self._positions[tab]
                moved[tab] = locate(tab, wanted[tab], [(r.key, r.values) for r in table.rows])
        for tab, found in positions.items():
            self._positions[tab] = found
        return positions, moved

    def _after_write(
        self, changes: list[CellChange], moved: dict[str, dict[int, int | None]]
    ) -> None:
        """A written `id` (or `cle`) is the row's identity from now on."""
        for change in changes:
            if change.column != IDENTITY_COLUMN.get(change.tab):
                continue
            if moved.get(change.tab, {}).get(change.key) is not None:
                self._identities.set_ident(change.tab, change.key, change.value)

    def delete_rows(self, tab: str, keys: Sequence[int]) -> int:
        """One `values:batchGet` of where the rows are now (as `write`), then one `:batchUpdate`
        of `deleteDimension` requests, bottom rows first so that each range is still right when
        Google applies it. Never blindly retried: deleting twice would remove other rows."""
        keys = [key for key in keys if key >= 2]
        known = self._sheet.fresh_tabs([tab])
        if not keys or tab not in known:
            return 0
        # Only rows of the last read, found by identity: a bare row number may be another row
        # by now, and a deletion cannot be undone.
        wanted = {k: i for k in keys if (i := self._identities.get(tab, k)) is not None}
        if not wanted:
            return 0
        _positions, moved = self._where_now([tab], {tab: wanted})
        found = moved.get(tab, {})
        numbers = sorted({n for key in wanted if (n := found.get(key)) is not None}, reverse=True)
        if len(numbers) < len(keys):
            log.warning(
                "Feuille Google, onglet %s : %d ligne(s) déjà supprimée(s) ou méconnaissable(s) "
                "depuis la lecture.", tab, len(keys) - len(numbers),
            )
        if not numbers:
            return 0
        sheet_id = known[tab].sheet_id
        requests_ = [
            {"deleteDimension": {"range": {
                "sheetId": sheet_id, "dimension": "ROWS",
                "startIndex": number - 1, "endIndex": number,
            }}}
            for number in numbers
        ]
        try:
            self._sheet.call(self._http.batch_update, self.key, {"requests": requests_},
                             idempotent=False)
        except Ambiguous:
            raise RegisterUnavailable(
                f"Google Sheets n'a pas confirmé la suppression de lignes dans « {tab} » : "
                "rien n'est recommencé à l'aveugle ; la prochaine purge relit l'onglet et "
                "termine le travail."
            ) from None
        finally:
            self._identities.forget(tab)
        return len(numbers)

    def append(self, tab: str, rows: Sequence[Mapping[str, str]]) -> list[int]:
        rows = list(rows)
        if not rows:
            return []
        known = self._sheet.fresh_tabs([tab])
        if tab not in known:
            known = self._sheet.metadata(refresh=True)
        if tab not in known:
            if tab not in schema.COLUMNS:
                raise RegisterError(f"L'onglet « {tab} » n'existe pas dans la feuille Google.")
            self._initialise(templates=False)
        # The whole tab: its last row with data is where the new rows go (and its ids, the
        # next free one). `values:append` from A1 would put them after the first blank row.
        (values,) = self._sheet.batch_get([absolute_range_name(tab)])
        positions = header_positions(values[0] if values else [])
        if not positions:
            raise RegisterError(
                f"L'onglet « {tab} » n'a pas de ligne d'en-têtes : lancez « alerte-message "
                "initialiser »."
            )
        self._positions[tab] = positions
        records = [{h: neutralise(str(r.get(h, "") or "")) for h in positions} for r in rows]
        if "id" in positions and any(not r["id"].strip() for r in records):
            column = positions["id"]
            fill_ids(records, next_free_id(row[column] for row in values[1:] if column < len(row)))
        body_rows = lines_of(records, positions)
        after = max(len(values), 1)  # trailing blank rows are never returned
        try:
            first = self._append_values(tab, body_rows, after)
        except Ambiguous:
            first = self._recover_append(tab, body_rows, after)
        if first is None:
            raise RegisterError(
                f"Réponse inattendue de Google Sheets après l'ajout dans « {tab} » : "
                "vérifiez les dernières lignes de l'onglet."
            )
        keys = list(range(first, first + len(body_rows)))
        for key, record in zip(keys, records, strict=True):
            self._identities.add(tab, key, record)
        return keys

    def _append_values(self, tab: str, body_rows: list[list[str]], after: int) -> int | None:
        """One `values:append` (RAW, INSERT_ROWS) searching for its table from the row below
        the last one with data (`after`): blank rows inside the data never attract the new
        rows, and rows another writer appended meanwhile are kept (ours go below them). Never
        blindly retried; the row number where Google says the lines went, `None` when its
        answer does not say."""
        response = self._sheet.call(
            self._http.values_append,
            self.key,
            absolute_range_name(tab, f"A{after + 1}"),
            {"valueInputOption": "RAW", "insertDataOption": "INSERT_ROWS"},
            {"majorDimension": "ROWS", "values": body_rows},
            idempotent=False,
        )
        return first_row(response.get("updates", {}).get("updatedRange", ""))

    def _recover_append(self, tab: str, body_rows: list[list[str]], after: int) -> int | None:
        """After an ambiguous failure: find our rows at the end of the tab, or append again."""
        for _ in range(self._retry.policy.max_attempts):
            (values,) = self._sheet.batch_get([absolute_range_name(tab)])
            found = find_block(values, body_rows)
            if found is not None:
                return found
            try:
                first = self._append_values(tab, body_rows, max(len(values), after))
            except Ambiguous:
                self._retry.sleep(self._retry.policy.base_delay)
                continue
            if first is not None:
                return first
        raise RegisterUnavailable(
            f"Google Sheets ne répond pas pendant l'ajout dans « {tab} » ; les lignes ont "
            "peut-être été enregistrées : vérifiez l'onglet avant de recommencer."
        )

    def initialise(self) -> InitReport:
        return self._initialise(templates=True)

    def _initialise(self, *, templates: bool) -> InitReport:
        report = InitReport()
        tabs = self._sheet.metadata(refresh=True)
        existing, ranges = initialise_ranges(tabs)
        contents = (
            dict(zip(existing, self._sheet.batch_get(ranges), strict=False)) if ranges else {}
        )
        requests_, data = plan_initialise(tabs, contents, report, templates=templates,
                                          recalculates=self._sheet.recalculates)
        protecting = sets_protection(requests_)
        if requests_:
            try:
                self._sheet.call(self._http.batch_update, self.key, {"requests": requests_},
                           idempotent=False)
            except Ambiguous:
                self._sheet.forget()
                raise RegisterUnavailable(
                    "Google Sheets n'a pas confirmé la création des onglets ; relancez "
                    "« alerte-message initialiser » (sans risque : l'opération est "
                    "idempotente)."
                ) from None
        if data:
            self._sheet.call(self._http.values_batch_update, self.key,
                       {"valueInputOption": "RAW", "data": data})
        if protecting:
            self._record_google_accounts(contents.get(schema.HABILITATIONS, []))
        if report.changed:
            self._sheet.forget()
            self._positions.clear()
        return report
