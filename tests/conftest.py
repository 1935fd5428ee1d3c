"""Test-suite wide settings."""

import os

import pytest
from hypothesis import settings

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
