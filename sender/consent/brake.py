"""The fraud brake on outbound confirmations (pure).

Someone pumping SMS or harassing numbers through the form never confirms: their requests'
messages stay unconfirmed. When more than `BRAKE_SHARE` of the last `BRAKE_WINDOW`
confirmation messages sent more than `BRAKE_GRACE_HOURS` ago still wait for their confirmation,
outbound confirmations pause by themselves; `Etat` says so with the figures, and
`alerte-message confirmations --reprendre` resumes them: only messages sent after the latest
resumption count, so the brake needs `BRAKE_WINDOW` new messages before it can hold again.

A message counts as confirmed when its request no longer waits in the register (confirmed, or
deleted by the CMA); one still waiting is unconfirmed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sender.consent.planning import History
from sender.limits import BRAKE_GRACE_HOURS, BRAKE_SHARE, BRAKE_WINDOW

RESUMED_KEY = "confirmations_reprises_le"  # `_journal` key: Unix time of the latest resumption


@dataclass(frozen=True, slots=True)
class BrakeState:
    considered: int  # messages old enough to judge, at most BRAKE_WINDOW
    unconfirmed: int

    @property
    def engaged(self) -> bool:
        return self.considered >= BRAKE_WINDOW and self.unconfirmed > BRAKE_SHARE * self.considered

    def describe(self) -> str:
        """French figures for `Etat` and the notes."""
        return (
            f"{self.unconfirmed} des {self.considered} derniers messages de confirmation "
            f"envoyés il y a plus de {BRAKE_GRACE_HOURS:g} h n’ont jamais été confirmés "
            f"(seuil : {BRAKE_SHARE:.0%})".replace("%", "\u00a0%")
        )


def brake(
    history: Sequence[History],
    waiting: Collection[str],
    now: float,
    resumed_at: float | None = None,
) -> BrakeState:
    """The brake's state from the confirmation messages sent (`history`, oldest first) and the
    message ids of the requests still waiting for their confirmation."""
    cutoff = now - BRAKE_GRACE_HOURS * 3600
    judged = [
        item for item in history
        if item.at <= cutoff and (resumed_at is None or item.at > resumed_at)
    ][-BRAKE_WINDOW:]
    unconfirmed = sum(1 for item in judged if item.message_id in waiting)
    return BrakeState(len(judged), unconfirmed)
