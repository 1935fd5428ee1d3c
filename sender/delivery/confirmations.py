"""Taps on the « Je confirme » button of a WhatsApp confirmation message: the request confirmed.

The webhook stores each tap in `entrants` (kind `confirmation`, the token as body) and answers
Meta at once. The cycle, before it reads the register, passes the stored taps to
`consent.confirm.confirm_buttons`: one read of the request tabs and one write of their
`confirme_le` cells for all of them, so that cycle's cleaning already makes the member `actif`
(or applies the unsubscription). A tap counts only from the number the message went to; a tap
on an expired, reused or foreign token changes nothing. Taps are marked recorded once handled,
whatever their outcome: Meta's duplicates are recognised by their message id, and a second tap
finds `confirme_le` filled.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from datetime import datetime

from sender.consent.confirm import Outcome, confirm_buttons
from sender.delivery.incoming import CONFIRMATION
from sender.delivery.store import DeliveryStore, InboxMessage
from sender.register.base import Register
from sender.text import mask_phone

log = logging.getLogger(__name__)


def as_button_message(message: InboxMessage) -> dict[str, object]:
    """The stored tap in the shape of Meta's `messages[]` item (what `confirm_buttons` reads)."""
    return {
        "from": message.sender,
        "id": message.message_id,
        "type": "button",
        "button": {"payload": message.body},
    }


class ButtonConfirmations:
    """The cycle's handling of confirmation taps (see the module docstring)."""

    def __init__(
        self,
        store: DeliveryStore,
        *,
        secret: Callable[[], bytes],
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.secret = secret
        self.clock = clock

    def record(self, register: Register) -> int:
        """Confirm the requests of the taps not handled yet (no register request when there
        are none); return how many requests they confirmed."""
        taps = self.store.messages_not_in_register((CONFIRMATION,))
        if not taps:
            return 0
        results = confirm_buttons(
            register, [as_button_message(t) for t in taps], secret=self.secret(), now=self.clock()
        )
        self.store.mark_recorded(t.message_id for t in taps)
        outcomes = Counter(r.outcome for r in results if r is not None)
        for tap, result in zip(taps, results, strict=True):
            if result is not None and result.outcome in (Outcome.INVALID, Outcome.EXPIRED):
                log.info("Bouton de confirmation de %s sans effet : lien %s.",
                         mask_phone(tap.sender),
                         "expiré" if result.outcome is Outcome.EXPIRED else "non reconnu")
        confirmed = outcomes[Outcome.CONFIRMED]
        if confirmed:
            log.info("%d demande(s) confirmée(s) par le bouton WhatsApp.", confirmed)
        return confirmed
