"""What the dispatcher sends: the `Compose` callable type and the ready-made `AlertMessages`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from sender.channels.base import OutgoingMessage

Compose = Callable[[str, str], OutgoingMessage]
"""`compose(channel_name, recipient)` → the message to send on that channel."""


@dataclass(frozen=True)
class AlertMessages:
    """A ready-made `compose`: the WhatsApp template for WhatsApp, plain text elsewhere.

    `sms_text` (if given) replaces `text` on the `sms` channel, e.g. a shorter GSM-7 version.
    """

    alert_id: str
    text: str
    sms_text: str | None = None
    template: str | None = None
    language: str = "fr"
    parameters: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "parameters", MappingProxyType(dict(self.parameters)))

    def __call__(self, channel: str, recipient: str) -> OutgoingMessage:
        if channel == "sms":
            return OutgoingMessage(self.alert_id, recipient, self.sms_text or self.text)
        return OutgoingMessage(
            self.alert_id,
            recipient,
            self.text,
            template=self.template,
            language=self.language,
            parameters=self.parameters,
        )
