"""One spreadsheet seen through gspread's `HTTPClient`: every API call goes through a `Retrier`
(bounded retries, French errors), and the tab list (metadata) is cached, refreshed at most every
`metadata_ttl` seconds when a wanted tab is missing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sender.register.sheets.layout import (
    METADATA_FIELDS,
    TabInfo,
    recalculates_every_minute,
    tabs_of,
)
from sender.register.sheets.retry import Retrier

T = TypeVar("T")


class SheetsSession:
    """API calls and cached metadata for the spreadsheet `key`."""

    def __init__(
        self,
        key: str,
        http: Any,
        retry: Retrier,
        *,
        metadata_ttl: float,
        clock: Callable[[], float],
    ) -> None:
        self.key = key
        self.http = http
        self.retry = retry
        self._metadata_ttl = metadata_ttl
        self._clock = clock
        self._tabs: dict[str, TabInfo] | None = None
        self._tabs_at = 0.0
        self.title: str | None = None
        self.recalculates = False  # every minute, in Paris time (the `Alertes` banner)

    def call(self, fn: Callable[..., T], *args: Any, idempotent: bool = True) -> T:
        """Run one API call with bounded retries; raise French `RegisterError`s."""
        return self.retry.call(fn, *args, idempotent=idempotent)

    def forget(self) -> None:
        """Drop the cached tab list: the next `metadata()` fetches it again."""
        self._tabs = None

    def metadata(self, *, refresh: bool = False) -> dict[str, TabInfo]:
        """The sheet's tabs, from the cache unless `refresh` (or nothing is cached)."""
        if self._tabs is not None and not refresh:
            return self._tabs
        meta = self.call(
            self.http.fetch_sheet_metadata,
            self.key,
            {"includeGridData": "false", "fields": METADATA_FIELDS},
        )
        tabs = tabs_of(meta)
        self.title = meta.get("properties", {}).get("title") or self.title
        self.recalculates = recalculates_every_minute(meta)
        self._tabs = tabs
        self._tabs_at = self._clock()
        return tabs

    def fresh_tabs(self, wanted: Iterable[str]) -> dict[str, TabInfo]:
        """Metadata, refreshed when a wanted tab is missing and the cache is old enough."""
        tabs = self.metadata()
        if any(t not in tabs for t in wanted) and (
            self._clock() - self._tabs_at >= self._metadata_ttl
        ):
            tabs = self.metadata(refresh=True)
        return tabs

    def batch_get(self, ranges: list[str]) -> list[list[list[Any]]]:
        """One `values:batchGet` (formatted values, by rows): the rows of each range."""
        response = self.call(
            self.http.values_batch_get,
            self.key,
            ranges,
            {"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"},
        )
        value_ranges = response.get("valueRanges", [])
        return [vr.get("values", []) for vr in value_ranges]
