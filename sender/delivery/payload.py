"""Meta's webhook payloads, read into typed events (pure, no I/O).

Shape (docs/architecture.md, "WhatsApp webhooks"): `{"object": "whatsapp_business_account",
"entry": [{"id", "changes": [{"field", "value"}]}]}`. Field `messages`: `value.statuses[]`
(`id` = wamid, `status`, `timestamp`, `recipient_id`, `biz_opaque_callback_data`, `errors[]`
with `code`, `title`, `message`, `error_data.details`) and `value.messages[]` (`from`, `id`,
`timestamp`, `type`, `text.body`, or `button.payload` and `button.text` for a tap on a
quick-reply button…). Field `user_preferences`: `value.user_preferences[]`
(`wa_id`, `category`, `value` = stop or resume). Field `message_template_status_update`:
`value.event` (APPROVED, PAUSED, DISABLED…) and `message_template_name`.

Anything that does not have the expected shape is skipped, never an error: the sender must
answer `200` to a well-signed payload it does not use, or Meta sends it again for a week.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sender.delivery.incoming import OPT_OUT_PREFERENCE, classify

STATUSES = ("sent", "delivered", "read", "failed")


@dataclass(frozen=True, slots=True)
class StatusEvent:
    wamid: str
    status: str  # sent, delivered, read or failed
    timestamp: int | None
    callback: str | None
    error_code: int | None = None


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    message_id: str
    sender: str  # WhatsApp id (digits) of the member
    kind: str  # see `incoming.py`
    body: str
    timestamp: int | None


@dataclass(frozen=True, slots=True)
class TemplateEvent:
    name: str
    event: str  # APPROVED, REJECTED, PAUSED, DISABLED…
    reason: str


@dataclass
class Events:
    statuses: list[StatusEvent] = field(default_factory=list)
    incoming: list[IncomingMessage] = field(default_factory=list)
    templates: list[TemplateEvent] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statuses) + len(self.incoming) + len(self.templates)


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _items(container: Mapping[str, Any], key: str) -> Iterator[Mapping[str, Any]]:
    items = container.get(key)
    if isinstance(items, list):
        yield from (item for item in items if isinstance(item, Mapping))


def _status(item: Mapping[str, Any]) -> StatusEvent | None:
    wamid, status = item.get("id"), item.get("status")
    if not isinstance(wamid, str) or not wamid or status not in STATUSES:
        return None
    code = None
    for error in _items(item, "errors"):
        code = _int(error.get("code"))
        break
    callback = item.get("biz_opaque_callback_data")
    return StatusEvent(
        wamid, str(status), _int(item.get("timestamp")),
        callback if isinstance(callback, str) else None, code,
    )


def _message(item: Mapping[str, Any]) -> IncomingMessage | None:
    sender, message_id = item.get("from"), item.get("id")
    if not isinstance(sender, str) or not isinstance(message_id, str) or not message_id:
        return None
    kind = classify(item)
    if kind is None:
        return None
    text, button = item.get("text"), item.get("button")
    body = text.get("body") if isinstance(text, Mapping) else None
    if body is None and isinstance(button, Mapping):
        body = button.get("payload")  # a quick-reply tap: the payload the template carried
    return IncomingMessage(
        message_id, sender, kind, str(body or "")[:200], _int(item.get("timestamp"))
    )


def _preference(item: Mapping[str, Any]) -> IncomingMessage | None:
    wa_id, value = item.get("wa_id"), item.get("value")
    if not isinstance(wa_id, str) or str(value).lower() != "stop":
        return None
    stamp = _int(item.get("timestamp"))
    # Meta gives no id: the member, the category and the time identify the event.
    ident = f"preference:{wa_id}:{item.get('category', '')}:{stamp or ''}"
    return IncomingMessage(ident, wa_id, OPT_OUT_PREFERENCE, "stop", stamp)


def parse(payload: Any) -> Events:
    """The events of one webhook POST (see the module docstring)."""
    events = Events()
    if not isinstance(payload, Mapping) or payload.get("object") != "whatsapp_business_account":
        return events
    for entry in _items(payload, "entry"):
        for change in _items(entry, "changes"):
            value = change.get("value")
            if not isinstance(value, Mapping):
                continue
            name = change.get("field")
            if name == "messages":
                events.statuses.extend(e for e in map(_status, _items(value, "statuses")) if e)
                events.incoming.extend(m for m in map(_message, _items(value, "messages")) if m)
            elif name == "user_preferences":
                events.incoming.extend(
                    m for m in map(_preference, _items(value, "user_preferences")) if m
                )
            elif name == "message_template_status_update":
                events.templates.append(
                    TemplateEvent(
                        str(value.get("message_template_name") or "?")[:100],
                        str(value.get("event") or "?")[:40],
                        str(value.get("reason") or "")[:200],
                    )
                )
    return events
