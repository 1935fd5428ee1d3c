"""Test-suite wide settings."""

import os

from hypothesis import settings

# In CI the property tests replay the same examples every run (a red CI must mean a change
# broke something, not that a new random example turned up); locally they explore anew.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
