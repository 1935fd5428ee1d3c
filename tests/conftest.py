"""Test-suite wide settings."""

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings

from support.emulators.sheets import SheetsEmulator

# In CI the property tests replay the same examples every run (a red CI must mean a change
# broke something, not that a new random example turned up); locally they explore anew.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests are slow too: `pytest -m "not slow"` is the fast inner loop."""
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="module")
def _sheets_server() -> Iterator[SheetsEmulator]:
    with SheetsEmulator() as emulator:
        yield emulator


@pytest.fixture
def sheets(_sheets_server: SheetsEmulator) -> SheetsEmulator:
    """The module's Google Sheets emulator, with no fault, staff edit or count left over from
    another test (each test creates its own spreadsheet, under a key of its own)."""
    _sheets_server.reset()
    return _sheets_server


@pytest.fixture
def sleeps() -> list[float]:
    """Where a component under test records the waits it would have slept."""
    return []
