"""Sending the confirmation messages of one cycle, after its alerts (the I/O around
`planning.plan`).

Each request is one dispatch of one recipient through the journal (`Dispatcher`), under the id
`confirmation-<kind>-<ref>`: the journal makes it once-only across restarts and crashes, and its
rows count in the WhatsApp daily limit like an alert's. The token of the link is signed just
before the send and expires with the request (its `horodatage` plus the validity).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rich.console import Console

from sender.channels.factory import ConfiguredChannels
from sender.config import Settings
from sender.consent import planning
from sender.consent.messages import ConfirmationMessage, confirmation_url
from sender.consent.requests import ConfirmationRequest
from sender.consent.tokens import load_secret, sign
from sender.dispatch.dispatcher import Dispatcher
from sender.dispatch.journal import Journal
from sender.errors import AlerteError
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
            if result.stopped_reason:
                report.notes.append(f"Confirmation {request.message_id} : {result.stopped_reason}")
                break  # token, account or template problem: the same for every message
            log.info(
                "Confirmation %s pour %s : %s", request.message_id,
                mask_phone(request.numero), "envoyée" if result.sent_now else "non envoyée",
            )
        return report
