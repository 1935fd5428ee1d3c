"""Requests waiting for their phone's confirmation, as the cleaning of the register finds them.

A sign-up made on the public form (or through the Apps Script intake) and an unsubscription
request made on the form both wait for the phone to confirm them; the sender sends each one
message with a signed link (`messages.py`), and following it writes `confirme_le` in the row
(`confirm.py`). Requests made by the CMA (`import`, `saisie`) need no confirmation.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sender.consent.tokens import DESINSCRIPTION, INSCRIPTION

__all__ = [
    "DESINSCRIPTION", "INSCRIPTION", "ConfirmationRequest", "expiry", "outbound", "request_ref",
]


@dataclass(frozen=True, slots=True)
class ConfirmationRequest:
    """One request waiting for a confirmation, still within its validity."""

    kind: str  # INSCRIPTION or DESINSCRIPTION
    ref: str  # the sign-up's id, or `request_ref` of the unsubscription's horodatage
    numero: str  # E.164: where the message goes
    made_at: datetime | None  # None when the row's horodatage cannot be read
    expires_at: datetime | None  # None: counted from the message (horodatage unreadable)
    # The person asked for an outbound message on the page (« Je n'ai pas WhatsApp… »). With
    # reverse confirmation (`Settings.reverse_confirmation`) only such requests get one.
    envoi_demande: bool = False

    @property
    def message_id(self) -> str:
        """The journal's key for this request's one message (never two for the same number)."""
        return f"confirmation-{self.kind}-{self.ref}"


def expiry(made_at: datetime | None, days: float) -> datetime | None:
    """When a request made at `made_at` stops being confirmable."""
    return None if made_at is None else made_at + timedelta(days=days)


def request_ref(horodatage: str) -> str:
    """The reference of an unsubscription request (its rows have no id): its time stamp."""
    return hashlib.sha256(" ".join(horodatage.split()).encode("utf-8")).hexdigest()[:10]


def outbound(
    pending: list[ConfirmationRequest], *, reverse_confirmation: bool
) -> list[ConfirmationRequest]:
    """The requests that get an outbound confirmation message: all of them, or with reverse
    confirmation (the person writes to the network's WhatsApp number) only those flagged
    `envoi_demande` — a form sign-up then sends nothing by itself."""
    if not reverse_confirmation:
        return pending
    return [request for request in pending if request.envoi_demande]
