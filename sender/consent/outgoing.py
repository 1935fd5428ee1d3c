"""Sending the confirmation messages of one cycle, after its alerts (the I/O around
`planning.plan`).

Each request is one dispatch of one recipient through the journal (`Dispatcher`), under the id
`confirmation-<kind>-<ref>`: the journal makes it once-only across restarts and crashes, and its
rows count in the WhatsApp daily limit like an alert's. The token of the link is signed just
before the send and expires with the request (its `horodatage` plus the validity).

A confirmation goes through one channel, with no SMS fallback: by SMS only when the person
asked for it (`envoi_demande`) or when SMS is the network's channel. WhatsApp refusing a number
(131026…) never turns into an SMS, because that is how a stranger would make the CMA pay for
SMS to numbers of his choosing. What the budget holds is kept in the journal
(`confirmations_reportees`) for the register's remark.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rich.console import Console

from sender.channels.factory import ConfiguredChannels
from sender.config import Settings
from sender.consent import budget, planning
from sender.consent.budget import OutboundState
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
    """(message id, number) → French reason of the confirmation messages that failed for good,
    or that the budget holds (`planning.HELD_PREFIX`, `planning.REPLACED`…)."""
    result = journal.held_confirmations()
    result.update({
        pair: text or "raison inconnue"
        for pair, (state, text) in journal.settled_with_prefix(planning.PREFIX).items()
        if state == "failed"
    })
    return result


class ConfirmationSender:
    """Sends the pending confirmations of a cycle through the configured channels."""

    def __init__(
        self, settings: Settings, journal: Journal, channels: ConfiguredChannels
    ) -> None:
        self.settings = settings
        self.journal = journal
        self.channels = channels
        self._secret: bytes | None = None
        self.state: OutboundState | None = None  # the last cycle's budget, brake and ceiling

    def send(
        self, pending: list[ConfirmationRequest], members: Iterable[str], now: datetime
    ) -> ConfirmationReport:
        """Send what `planning.plan` allows now; `members` are the active members' numbers."""
        report = ConfirmationReport()
        moment = now.timestamp()
        sent = budget.history(self.journal, moment)
        self.state = state = budget.outbound_state(
            self.settings, self.journal, {r.message_id for r in pending}, moment, sent
        )
        if not pending:
            self.journal.set_held_confirmations({})
            return report
        limit = self.channels.daily_limit
        contacted: set[str] = set()
        if limit is not None:
            contacted = self.journal.contacted_since(channel=self.channels.primary.name)
        chosen = planning.plan(
            pending,
            attempted=self.journal.attempted_with_prefix(planning.PREFIX),
            history=sent, now=moment, limits=state.budget,
            countries=self.settings.limits.countries, channel_for=self._channel_for,
            room=planning.budget(limit, contacted, members), contacted=contacted,
        )
        report.notes.extend(chosen.notes(state.budget))
        report.waiting = chosen.waiting
        try:
            if chosen.to_send:
                self._send_all(chosen, now, report)
        finally:
            self.journal.set_held_confirmations(chosen.held)
        return report

    def _send_all(
        self, chosen: planning.ConfirmationPlan, now: datetime, report: ConfirmationReport
    ) -> None:
        try:
            secret = self._secret or load_secret(self.settings)
        except AlerteError as error:
            report.waiting += len(chosen.to_send)
            report.notes.append(f"Messages de confirmation non envoyés : {error.message}")
            log.warning("Messages de confirmation non envoyés : %s", error.message)
            return
        self._secret = secret
        for request, channel in chosen.to_send:
            if channel == "sms" and not self._sms_left():
                chosen.hold(request, "sms_ceiling",
                            planning.HELD_PREFIX + planning.MOTIFS["sms_ceiling"])
                report.waiting += 1
                continue
            if not self._send_one(request, channel, secret, now, report):
                break

    def _sms_left(self) -> bool:
        """The month's SMS parts (every kind) are still below the ceiling: checked before each
        SMS, since a confirmation may take several parts."""
        month = self.journal.counts_since(budget.month_start(self.journal.clock()))
        return budget.sms_parts(month) < self.settings.limits.sms_parts_per_month

    def _channel_for(self, request: ConfirmationRequest) -> str:
        """SMS when the person asked for it and SMS is configured; else the network's channel."""
        primary = self.settings.channel
        if request.envoi_demande and primary == "whatsapp" and self.channels.fallback:
            return "sms"
        return primary

    def _dispatcher(self, channel: str) -> Dispatcher:
        primary = self.channels.primary
        if channel != primary.name:
            assert self.channels.fallback is not None  # `_channel_for` checked it
            primary = self.channels.fallback
        return Dispatcher(
            self.journal,
            primary,
            fallback=None,  # never an automatic SMS for a confirmation
            concurrency=1,
            daily_limit=self.channels.daily_limit if channel == "whatsapp" else None,
            over_limit_policy="reporter",
            progress=False,
            console=Console(quiet=True),
            webhooks=self.settings.webhooks,
            status_wait=self.settings.status_wait,
            clock=self.journal.clock,
        )

    def _send_one(
        self, request: ConfirmationRequest, channel: str, secret: bytes, now: datetime,
        report: ConfirmationReport,
    ) -> bool:
        """Send one request's message; False when the batch must stop."""
        deadline = request.expires_at or now + timedelta(days=self.settings.confirmation_days)
        token = sign(secret, request.kind, request.ref, request.numero, deadline.timestamp())
        message = ConfirmationMessage(
            request.message_id, request.kind, token,
            confirmation_url(self.settings.site_url, token), deadline,
        )
        result = self._dispatcher(channel).dispatch(request.message_id, [request.numero], message)
        report.sent += result.sent_now
        report.failed += result.failed
        if not result.complete:
            report.waiting += 1
        if result.stopped_motif:
            report.notes.append(f"Confirmation {request.message_id} : {result.stopped_motif}")
            return False  # token, account or template problem: the same for every message
        log.info(
            "Confirmation %s pour %s (%s) : %s", request.message_id, mask_phone(request.numero),
            channel, "envoyée" if result.sent_now else "non envoyée",
        )
        return True
