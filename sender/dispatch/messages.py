"""What the dispatcher sends: the `Compose` callable type and `AlertMessages`, the one used for an
alert's composed messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sender.alerts.compose import ComposedMessage
from sender.channels.base import OutgoingMessage

Compose = Callable[[str, str], OutgoingMessage]
"""`compose(channel_name, recipient)` → the message to send on that channel."""


@dataclass(frozen=True)
class AlertMessages:
    """The alert's message on its primary channel (WhatsApp template, SMS or outbox text), and
    the SMS text for the `sms` fallback channel when there is one."""

    alert_id: str
    primary: ComposedMessage
    sms: ComposedMessage | None = None

    def __call__(self, channel: str, numero: str) -> OutgoingMessage:
        message = self.sms if channel == "sms" and self.sms is not None else self.primary
        return message.to_message(self.alert_id, numero)
