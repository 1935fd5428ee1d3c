"""Meta's webhook payloads, read into typed events (pure, no I/O).

Shape (docs/architecture.md, "WhatsApp webhooks"): `{"object": "whatsapp_business_account",
"entry": [{"id", "changes": [{"field", "value"}]}]}`. Field `messages`: `value.statuses[]`
(`id` = wamid, `status`, `timestamp`, `recipient_id`, `biz_opaque_callback_data`, `errors[]`
with `code`, `title`, `message`, `error_data.details`) and `value.messages[]` (`from`, `id`,
`timestamp`, `type`, `text.body`, or `button.payload` and `button.text` for a tap on a
quick-reply button…). Field `user_preferences`: `value.user_preferences[]`
(`wa_id`, `category`, `value` = stop or resume). Field `message_template_status_update`:
`value.event` (APPROVED, PAUSED, DISABLED…) and `message_template_name`.

A well-signed payload the sender does not use (another `object`, another field, an unknown
status) is skipped: the sender answers `200`, or Meta sends it again for a week. A payload that
uses the expected fields with the wrong types (a list that is not one, an id that is not text, a
time stamp that is not a number of seconds) raises `UnreadablePayload`: the endpoint answers
`400` and stores none of its events.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sender.delivery.incoming import OPT_OUT_PREFERENCE, classify

STATUSES = ("sent", "delivered", "read", "failed")
MAX_DIGITS = 15  # Unix seconds and Graph error codes are far shorter; SQLite holds 19 digits


class UnreadablePayload(ValueError):
    """A signed payload whose expected fields have the wrong types (answered 400)."""


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


def _int(value: object, name: str = "") -> int | None:
    """A whole number of at most MAX_DIGITS digits (given as a number or as text); None when
    absent; anything else raises when `name` says which field it is, else gives None."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**MAX_DIGITS:
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS:
            return int(text)
    if name:
        raise UnreadablePayload(f"{name} illisible")
    return None


def _text(item: Mapping[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is not None and not isinstance(value, str):
        raise UnreadablePayload(f"{key} n'est pas un texte")
    return value


def _items(container: Mapping[str, Any], key: str) -> Iterator[Mapping[str, Any]]:
    items = container.get(key)
    if items is None:
        return
    if not isinstance(items, list):
        raise UnreadablePayload(f"{key} n'est pas une liste")
    for item in items:
        if not isinstance(item, Mapping):
            raise UnreadablePayload(f"un élément de {key} n'est pas un objet")
        yield item


def _status(item: Mapping[str, Any]) -> StatusEvent | None:
    wamid, status = _text(item, "id"), _text(item, "status")
    stamp = _int(item.get("timestamp"), "timestamp")
    callback = _text(item, "biz_opaque_callback_data")
    code = None
    for error in _items(item, "errors"):
        code = _int(error.get("code"), "code")
        break
    if not wamid or status not in STATUSES:
        return None
    return StatusEvent(wamid, str(status), stamp, callback, code)


def _message(item: Mapping[str, Any]) -> IncomingMessage | None:
    sender, message_id = _text(item, "from"), _text(item, "id")
    stamp = _int(item.get("timestamp"), "timestamp")
    if not sender or not message_id:
        return None
    kind = classify(item)
    if kind is None:
        return None
    text, button = item.get("text"), item.get("button")
    body = text.get("body") if isinstance(text, Mapping) else None
    if body is None and isinstance(button, Mapping):
        body = button.get("payload")  # a quick-reply tap: the payload the template carried
    return IncomingMessage(
        message_id, sender, kind, str(body or "")[:200], stamp
    )


def _preference(item: Mapping[str, Any]) -> IncomingMessage | None:
    wa_id, value = _text(item, "wa_id"), item.get("value")
    stamp = _int(item.get("timestamp"), "timestamp")
    if not wa_id or str(value).lower() != "stop":
        return None
    # Meta gives no id: the member, the category and the time identify the event.
    ident = f"preference:{wa_id}:{item.get('category', '')}:{stamp or ''}"
    return IncomingMessage(ident, wa_id, OPT_OUT_PREFERENCE, "stop", stamp)


def parse(payload: Any) -> Events:
    """The events of one webhook POST (see the module docstring); raises `UnreadablePayload`
    when the fields it uses have the wrong types."""
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
