"""Which confirmation messages a cycle sends (pure): once per request, alerts first.

- A request already `sent` or `failed` in the journal is never sent again; one still `pending`
  (a crash mid-send), `gave_up` or `deferred` is sent again by the next cycle.
- One number gets at most `PER_NUMBER_PER_DAY` confirmation messages per rolling 24 h, whoever
  fills the form with it; the others wait (and expire after their validity if nobody confirms).
- Under a daily limit of unique numbers (WhatsApp), confirmations only use what an alert to
  every active member would leave: `budget` is computed by the caller as the limit, minus the
  numbers already contacted in the window, minus the active members not contacted yet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from sender.consent.requests import ConfirmationRequest
from sender.text import plural

PER_NUMBER_PER_DAY = 3
PREFIX = "confirmation-"


@dataclass
class ConfirmationPlan:
    to_send: list[ConfirmationRequest] = field(default_factory=list)
    held_by_number: int = 0
    held_by_quota: int = 0

    def notes(self) -> list[str]:
        notes = []
        if self.held_by_quota:
            notes.append(
                plural(self.held_by_quota, "message de confirmation reporté",
                       "messages de confirmation reportés")
                + " : le plafond journalier WhatsApp reste réservé aux alertes."
            )
        if self.held_by_number:
            notes.append(
                plural(self.held_by_number, "message de confirmation retenu",
                       "messages de confirmation retenus")
                + f" : {PER_NUMBER_PER_DAY} au plus par numéro et par 24 h."
            )
        return notes


def budget(
    limit: int | None, contacted: Collection[str], members: Iterable[str]
) -> int | None:
    """New numbers confirmations may reach today without crowding out an alert; None: no
    limit on this channel."""
    if limit is None:
        return None
    reserve = sum(1 for number in set(members) if number not in contacted)
    return max(0, limit - len(contacted) - reserve)


def plan(
    pending: Iterable[ConfirmationRequest],
    settled: Collection[tuple[str, str]],
    recent: Mapping[str, int],
    contacted: Collection[str],
    room: int | None,
) -> ConfirmationPlan:
    """The requests to send now, oldest first; `settled` holds (message id, number) pairs
    already sent or failed, `recent` the confirmation messages per number in the last 24 h."""
    result = ConfirmationPlan()
    counts: Counter[str] = Counter(recent)
    reached = set(contacted)
    ordered = sorted(
        pending, key=lambda r: (r.made_at is None, r.made_at.timestamp() if r.made_at else 0)
    )
    for request in ordered:
        if (request.message_id, request.numero) in settled:
            continue
        if counts[request.numero] >= PER_NUMBER_PER_DAY:
            result.held_by_number += 1
            continue
        if room is not None and request.numero not in reached:
            if room <= 0:
                result.held_by_quota += 1
                continue
            room -= 1
            reached.add(request.numero)
        counts[request.numero] += 1
        result.to_send.append(request)
    return result
