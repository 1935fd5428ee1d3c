"""What outbound messages may cost: the settings of the confirmation budget, the monthly SMS
ceiling, the fraud brake and the countries whose numbers may sign up (docs/reglages.md).

Outbound confirmation messages are a small fallback (the phone writes to us first when WhatsApp
is configured): at most `confirmations_per_day` per channel per rolling 24 h, never to a number
outside `countries`, and none by SMS once `sms_parts_per_month` billed parts went out this
month. Alerts are never held by the confirmation budget; by SMS they stop at the monthly
ceiling only when `sms_alerts_blocked`.
"""

from __future__ import annotations

from dataclasses import dataclass

# Numbers issued by French operators: metropolitan France and overseas.
FRENCH_REGIONS: tuple[str, ...] = (
    "FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "WF", "PF", "NC",
)
DEFAULT_CONFIRMATIONS_PER_DAY = 30
DEFAULT_SMS_PARTS_PER_MONTH = 2_000
# Fraud brake: outbound confirmations pause when more than `BRAKE_SHARE` of the last
# `BRAKE_WINDOW` ones sent more than `BRAKE_GRACE_HOURS` ago were never confirmed.
BRAKE_WINDOW = 20
BRAKE_SHARE = 0.8
BRAKE_GRACE_HOURS = 6.0
# Harassment bound: one number gets at most this many confirmation messages.
PER_NUMBER_PER_DAY = 1
PER_NUMBER_PER_WEEK = 3


@dataclass(frozen=True, slots=True)
class Limits:
    """The budget settings (`Settings.limits`)."""

    countries: tuple[str, ...] = FRENCH_REGIONS
    confirmations_per_day: int = DEFAULT_CONFIRMATIONS_PER_DAY  # per channel, rolling 24 h
    sms_parts_per_month: int = DEFAULT_SMS_PARTS_PER_MONTH  # every SMS, billed parts
    sms_alerts_blocked: bool = False  # ALERTE_PLAFOND_SMS_ALERTES=bloquer
