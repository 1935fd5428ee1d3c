"""Alerts: checking an `Alertes` row, choosing recipients, composing the message.

All functions here are pure (no I/O, no clock): the caller passes rows, members and `now`.
"""

from sender.alerts.compose import ComposedMessage, Composer, TemplateProblem, template_context
from sender.alerts.model import (
    Alert,
    Officer,
    Verdict,
    normalise_precision,
    normalise_type,
)
from sender.alerts.rules import active_officers, check_alert, is_to_send, normalise_identifiant
from sender.alerts.targeting import Member, member_from_row, select_recipients, split_activities

__all__ = [
    "Alert",
    "ComposedMessage",
    "Composer",
    "Member",
    "Officer",
    "TemplateProblem",
    "Verdict",
    "active_officers",
    "check_alert",
    "is_to_send",
    "member_from_row",
    "normalise_identifiant",
    "normalise_precision",
    "normalise_type",
    "select_recipients",
    "split_activities",
    "template_context",
]
