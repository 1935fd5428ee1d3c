"""Opt-outs received on WhatsApp: one `Desinscriptions` row each, and one short answer.

Run by the cycle before it reads the register, so the member is `desinscrit` from that very
cycle on (the cleaning honours `Desinscriptions`):

1. opt-outs not yet written (« STOP » and the like, or Meta's « stop » preference) become rows
   of `Desinscriptions` with source `whatsapp`, in one append;
2. each member who wrote such a message gets one French acknowledgement. WhatsApp only allows a
   free-form message within 24 hours of the member's own message (the customer-service window),
   so older ones get none, and Meta's preference opt-out (no message from the member) neither.
   The answer is marked as sent before it is sent: a crash never sends it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime

from sender import schema
from sender.dates import PARIS, format_french
from sender.delivery.incoming import OPT_OUT, OPT_OUT_KINDS
from sender.delivery.store import DeliveryStore
from sender.domain.phones import from_whatsapp
from sender.errors import AlerteError
from sender.register.base import Register
from sender.text import mask_phone

log = logging.getLogger(__name__)

SOURCE_WHATSAPP = schema.SOURCE_WHATSAPP
ANSWER_WINDOW = 24 * 3600 - 600  # WhatsApp's 24-hour window, with ten minutes to spare
ACKNOWLEDGEMENT = (
    "Alerte Message\u00a0: votre désinscription est enregistrée, vous ne recevrez plus nos "
    "alertes. Pour revenir, réinscrivez-vous sur le site Alerte Message."
)

Reply = Callable[[str, str], object]  # (E.164 number, text) → sends one free-form message


def desinscription_row(sender: str, received_at: float) -> dict[str, str]:
    """The `Desinscriptions` row of one opt-out (the number in E.164)."""
    moment = datetime.fromtimestamp(received_at, tz=PARIS)
    return {
        "horodatage": format_french(moment),
        "telephone": from_whatsapp(sender),
        "source": SOURCE_WHATSAPP,
        "traite": "",
    }


class OptOuts:
    """The cycle's handling of opt-outs (see the module docstring)."""

    def __init__(self, store: DeliveryStore, *, clock: Callable[[], float]) -> None:
        self.store = store
        self.clock = clock

    def record(
        self, register: Register, known: Callable[[], Collection[str]] | None = None
    ) -> int:
        """Append the new opt-outs to `Desinscriptions` (one request, none when there are
        none); return how many. With `known` (the E.164 numbers of the members and pending
        requests, asked only when there are opt-outs), an opt-out from any other number writes
        no row and gets no answer: « STOP » sent by strangers cannot fill the tab."""
        pending = self.store.messages_not_in_register(OPT_OUT_KINDS)
        if not pending:
            return 0
        strangers = []
        if known is not None:
            numbers = known()
            strangers = [m for m in pending if from_whatsapp(m.sender) not in numbers]
            pending = [m for m in pending if from_whatsapp(m.sender) in numbers]
        if strangers:
            self.store.mark_handled(m.message_id for m in strangers)
            log.info("%d « STOP » de numéros ni inscrits ni en attente : sans effet.",
                     len(strangers))
        if not pending:
            return 0
        register.append(
            schema.DESINSCRIPTIONS,
            [desinscription_row(m.sender, m.received_at) for m in pending],
        )
        self.store.mark_recorded(m.message_id for m in pending)
        log.info("%d désinscription(s) reçue(s) par WhatsApp enregistrée(s).", len(pending))
        return len(pending)

    def acknowledge(self, reply: Reply) -> int:
        """Answer each recorded « STOP » of the last 24 h once; return how many were sent."""
        answered: set[str] = set()
        sent = 0
        for message in self.store.to_answer(OPT_OUT, self.clock() - ANSWER_WINDOW):
            if not self.store.mark_answered(message.message_id):
                continue
            if message.sender in answered:
                continue  # one answer per member, even for « STOP » sent twice
            answered.add(message.sender)
            try:
                reply(from_whatsapp(message.sender), ACKNOWLEDGEMENT)
            except AlerteError as error:
                log.warning(
                    "Accusé de désinscription non envoyé à %s : %s",
                    mask_phone(message.sender), error.message,
                )
                continue
            sent += 1
        return sent
