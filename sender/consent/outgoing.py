"""Sending the confirmation messages of one cycle, after its alerts (the I/O around
`planning.plan`).

Each request is one dispatch of one recipient through the journal (`Dispatcher`), under the id
`confirmation-<kind>-<ref>`: the journal makes it once-only across restarts and crashes, and its
rows count in the WhatsApp daily limit like an alert's. The token of the link is signed just
before the send and expires with the request (its `horodatage` plus the validity).

With status webhooks, WhatsApp may accept a message and report later that it failed (the number
has no WhatsApp, 131026…). When an SMS fallback is configured, such a confirmation is not
settled: the next cycle sends it again and the dispatcher routes it to SMS, as it does for an
alert (`dispatch.decisions`); it is never sent twice by SMS.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rich.console import Console

from sender.channels.factory import ConfiguredChannels
from sender.channels.whatsapp import SMS_CODE_TEXTS
from sender.config import Settings
from sender.consent import planning
from sender.consent.messages import ConfirmationMessage, confirmation_url
from sender.consent.requests import ConfirmationRequest
from sender.consent.tokens import load_secret, sign
from sender.dispatch.dispatcher import Dispatcher
from sender.errors import AlerteError
from sender.journal.journal import Journal
from sender.text import mask_phone, plural

log = logging.getLogger(__name__)


@dataclass
class ConfirmationReport:
    sent: int = 0
    failed: int = 0
    waiting: int = 0  # not sent by this cycle (limits, transient errors)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if not self.sent:
            return ""
        return plural(self.sent, "message de confirmation envoyé",
                      "messages de confirmation envoyés")


def failures(journal: Journal) -> dict[tuple[str, str], str]:
    """(message id, number) → French reason of the confirmation messages that failed for good."""
    return {
        pair: text or "raison inconnue"
        for pair, (state, text) in journal.settled_with_prefix(planning.PREFIX).items()
        if state == "failed"
    }


class ConfirmationSender:
    """Sends the pending confirmations of a cycle through the configured channels."""

    def __init__(
        self, settings: Settings, journal: Journal, channels: ConfiguredChannels
    ) -> None:
        self.settings = settings
        self.journal = journal
        self.channels = channels
        self._secret: bytes | None = None

    def send(
        self, pending: list[ConfirmationRequest], members: Iterable[str], now: datetime
    ) -> ConfirmationReport:
        """Send what `planning.plan` allows now; `members` are the active members' numbers."""
        report = ConfirmationReport()
        if not pending:
            return report
        settled = self.journal.settled_with_prefix(planning.PREFIX)
        for pair in self._for_sms():
            settled.pop(pair, None)
        recent = self.journal.recent_by_recipient(planning.PREFIX)
        limit = self.channels.daily_limit
        contacted: set[str] = set()
        if limit is not None:
            contacted = self.journal.contacted_since(channel=self.channels.primary.name)
        room = planning.budget(limit, contacted, members)
        chosen = planning.plan(pending, settled, recent, contacted, room)
        report.notes.extend(chosen.notes())
        report.waiting = chosen.held_by_number + chosen.held_by_quota
        if not chosen.to_send:
            return report
        try:
            secret = self._secret or load_secret(self.settings)
        except AlerteError as error:
            report.waiting += len(chosen.to_send)
            report.notes.append(f"Messages de confirmation non envoyés : {error.message}")
            log.warning("Messages de confirmation non envoyés : %s", error.message)
            return report
        self._secret = secret
        dispatcher = Dispatcher(
            self.journal,
            self.channels.primary,
            fallback=self.channels.fallback,
            concurrency=1,
            daily_limit=limit,
            over_limit_policy="reporter",
            progress=False,
            console=Console(quiet=True),
            webhooks=self.settings.webhooks,
            status_wait=self.settings.status_wait,
        )
        for request in chosen.to_send:
            deadline = request.expires_at or now + timedelta(days=self.settings.confirmation_days)
            token = sign(secret, request.kind, request.ref, request.numero, deadline.timestamp())
            message = ConfirmationMessage(
                request.message_id, request.kind, token,
                confirmation_url(self.settings.site_url, token), deadline,
            )
            result = dispatcher.dispatch(request.message_id, [request.numero], message)
            report.sent += result.sent_now
            report.failed += result.failed
            if not result.complete:
                report.waiting += 1
            if result.stopped_motif:
                report.notes.append(f"Confirmation {request.message_id} : {result.stopped_motif}")
                break  # token, account or template problem: the same for every message
            log.info(
                "Confirmation %s pour %s : %s", request.message_id,
                mask_phone(request.numero), "envoyée" if result.sent_now else "non envoyée",
            )
        return report

    def _for_sms(self) -> set[tuple[str, str]]:
        """(message id, number) of the confirmations WhatsApp refused after accepting them
        (status webhook) with a refusal an SMS gets round, when an SMS fallback exists."""
        if self.channels.fallback is None:
            return set()
        since = time.time() - self.settings.confirmation_days * 86_400
        return {
            (message_id, number)
            for message_id in self.journal.follow_ups(since, SMS_CODE_TEXTS)
            if message_id.startswith(planning.PREFIX)
            for number in self.journal.follow_up_recipients(message_id, SMS_CODE_TEXTS)
        }
