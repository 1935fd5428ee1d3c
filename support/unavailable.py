"""Tests that need something of the machine (a browser, Node, a tmpfs, a time namespace)."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def unavailable(message: str) -> NoReturn:
    """Skip the test where the machine lacks what it needs; fail in CI, where `.ci/run` installs
    everything and runs as root: a missing part there must not pass as a skip."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
