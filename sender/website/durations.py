"""The durations the data notice states, from the very settings the software applies them
with: `[[duree:…]]` markers in the site's pages (see `blocks.py`).

- `desinscrits`: after an unsubscription (`ALERTE_CONSERVATION_DESINSCRITS`);
- `demandes`: an unconfirmed request after its link expired (`ALERTE_CONSERVATION_DEMANDES`);
- `traces`: per-recipient send traces (`ALERTE_CONSERVATION_TRACES`);
- `lien`: the validity of a confirmation link (`ALERTE_CONFIRMATION_JOURS`);
- `messages-recus`: an incoming message once applied (`delivery.store.KEEP_SECONDS`).
"""

from __future__ import annotations

from sender.config import Settings
from sender.delivery.store import KEEP_SECONDS
from sender.text import plural

_NBSP = "\u00a0"  # between a number and its unit, as French typography wants


def _days(value: float) -> str:
    if float(value).is_integer():
        return plural(int(value), "jour", "jours").replace(" ", _NBSP, 1)
    return f"{value:g}{_NBSP}jours"


def durations(settings: Settings) -> dict[str, str]:
    """Marker name → the duration in French words (« 30 jours », « 12 mois »)."""
    retention = settings.retention
    return {
        "desinscrits": _days(retention.unsubscribed_days),
        "demandes": _days(retention.requests_days),
        "traces": f"{retention.traces_months}{_NBSP}mois",
        "lien": _days(settings.confirmation_days),
        "messages-recus": _days(KEEP_SECONDS / 86_400),
    }
