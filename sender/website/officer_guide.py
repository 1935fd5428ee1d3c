"""The officer's one-page guide « Lancer une alerte », to print in A4 for the wall of a
commissariat or a gendarmerie operations centre.

The French text lives next to this module (`guide-agent.html`, with its print CSS); the CMA's
details fill its `[[cma:…]]` markers as on the site, and the settings fill `[[peremption]]`
(ALERTE_PEREMPTION_HEURES), `[[intervalle]]` (ALERTE_INTERVALLE) and `[[jours_suite]]`. The
column names and statuses it quotes are checked against `sender/schema.py` by the tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sender.schema import SEQUEL_MAX_DAYS
from sender.website.blocks import Blocks

GUIDE = Path(__file__).with_name("guide-agent.html")


def _seconds(value: float) -> str:
    if value >= 60 and value % 60 == 0:
        return f"{value / 60:g}\u00a0min"
    return f"{value:g}\u00a0s"


def officer_guide_html(
    details: Mapping[str, str], *, stale_hours: float, poll_seconds: float
) -> str:
    """The whole page, ready to print (a missing CMA detail shows « à fournir par la CMA »)."""
    text = GUIDE.read_text("utf-8")
    for marker, value in (
        ("[[peremption]]", f"{stale_hours:g}\u00a0h"),
        ("[[intervalle]]", _seconds(poll_seconds)),
        ("[[jours_suite]]", str(SEQUEL_MAX_DAYS)),
    ):
        text = text.replace(marker, value)
    return Blocks(details)(text)
