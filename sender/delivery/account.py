"""What Meta says of the WhatsApp account, kept in the journal file and shown in `Etat`:
each template's status (`message_template_status_update` webhooks), the messaging limit and
the quality rating (read from the API at start and hourly, and from
`phone_number_quality_update` / `business_capability_update` webhooks).

Shapes (docs/architecture.md, « WhatsApp webhooks »): `message_template_status_update`:
`value.event` (APPROVED, PAUSED, DISABLED, REJECTED, FLAGGED, REINSTATED…),
`message_template_name`, `message_template_language`, `reason`. `phone_number_quality_update`:
`value.event` (DOWNGRADE, UPGRADE, FLAGGED, UNFLAGGED…), the limit in
`max_daily_conversations_per_business` (a `TIER_*` string) or the older `current_limit`.
`business_capability_update`: `max_daily_conversations_per_business` as a number (-1:
unlimited). Anything else is ignored. Parsing is pure; storing is one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sender.channels.graph import messaging_limit, tier_limit
from sender.delivery.store import DeliveryStore

# A template in one of these states cannot carry an alert (Meta answers 132015, 132016 or
# 132001); APPROVED and REINSTATED can, FLAGGED still can (its quality is low: a warning).
SENDABLE = frozenset({"APPROVED", "REINSTATED", "FLAGGED"})
QUALITY_RANK = {"GREEN": 3, "YELLOW": 2, "RED": 1}
_DROPS = frozenset({"DOWNGRADE", "FLAGGED"})

LIMIT, QUALITY, PREVIOUS_QUALITY, QUALITY_EVENT = (
    "plafond", "qualite", "qualite_precedente", "evenement_qualite")


@dataclass(frozen=True, slots=True)
class TemplateStatus:
    name: str
    language: str
    event: str
    reason: str = ""
    received_at: float = 0.0  # when Meta sent it (entry `time`), or stored


@dataclass
class AccountEvents:
    templates: list[TemplateStatus] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)  # LIMIT, QUALITY, QUALITY_EVENT

    def __bool__(self) -> bool:
        return bool(self.templates or self.values)


def _changes(payload: Any) -> Iterator[tuple[str, Mapping[str, Any], float]]:
    """(field, value, the entry's `time` or 0) of each change."""
    if not isinstance(payload, Mapping) or payload.get("object") != "whatsapp_business_account":
        return
    entries = payload.get("entry")
    for entry in entries if isinstance(entries, list) else []:
        changes = entry.get("changes") if isinstance(entry, Mapping) else None
        stamp = entry.get("time") if isinstance(entry, Mapping) else None
        at = float(stamp) if isinstance(stamp, int) and not isinstance(stamp, bool) else 0.0
        for change in changes if isinstance(changes, list) else []:
            if isinstance(change, Mapping) and isinstance(change.get("value"), Mapping):
                yield str(change.get("field") or ""), change["value"], at


def _text(value: object, limit: int) -> str:
    return "" if value is None or str(value).upper() == "NONE" else str(value)[:limit]


def parse_account(payload: Any) -> AccountEvents:
    """The account events of one webhook POST (see the module docstring)."""
    events = AccountEvents()
    for name, value, at in _changes(payload):
        if name == "message_template_status_update":
            template = _text(value.get("message_template_name"), 100)
            event = _text(value.get("event"), 40).upper()
            if template and event:
                events.templates.append(TemplateStatus(
                    template, _text(value.get("message_template_language"), 20) or "fr",
                    event, _text(value.get("reason"), 200), at))
        elif name == "phone_number_quality_update":
            tier = value.get("max_daily_conversations_per_business") or value.get(
                "current_limit")
            if tier:
                events.values[LIMIT] = _text(tier, 40)
            if value.get("event"):
                events.values[QUALITY_EVENT] = _text(value.get("event"), 40).upper()
        elif name == "business_capability_update":
            number = value.get("max_daily_conversations_per_business")
            if isinstance(number, int) and not isinstance(number, bool):
                events.values[LIMIT] = "TIER_UNLIMITED" if number < 0 else f"TIER_{number}"
    return events


def phone_events(phone: Mapping[str, Any]) -> AccountEvents:
    """The account values of the API's phone-number answer."""
    events = AccountEvents()
    tier = messaging_limit(dict(phone))
    if tier:
        events.values[LIMIT] = tier
    if phone.get("quality_rating"):
        events.values[QUALITY] = str(phone["quality_rating"]).upper()[:20]
    return events


def save_account(store: DeliveryStore, events: AccountEvents, now: float | None = None) -> None:
    """Store the events in one transaction; a quality that changes keeps the previous one.
    Webhooks come in any order: a template status older (entry `time`) than the stored one
    is ignored; with equal times, the later received wins."""
    if not events:
        return
    now = time.time() if now is None else now
    with store.write() as conn:
        for t in events.templates:
            conn.execute(
                "INSERT INTO modeles_meta (name, language, event, reason, received_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name, language) DO UPDATE SET "
                "event = excluded.event, reason = excluded.reason, "
                "received_at = excluded.received_at "
                "WHERE excluded.received_at >= modeles_meta.received_at",
                (t.name, t.language, t.event, t.reason, t.received_at or now),
            )
        values = dict(events.values)
        if QUALITY in values:
            old = conn.execute("SELECT valeur FROM compte_meta WHERE cle = ?",
                               (QUALITY,)).fetchone()
            if old is not None and old[0] != values[QUALITY]:
                values[PREVIOUS_QUALITY] = old[0]
        for key, value in values.items():
            conn.execute(
                "INSERT INTO compte_meta (cle, valeur, received_at) VALUES (?, ?, ?) "
                "ON CONFLICT (cle) DO UPDATE SET valeur = excluded.valeur, "
                "received_at = excluded.received_at",
                (key, value, now),
            )


@dataclass
class Account:
    """What the journal knows of the account."""

    templates: dict[tuple[str, str], TemplateStatus] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)

    @property
    def daily_limit(self) -> int | None:
        """Meta's messaging limit (unique users per 24 h); None when unknown or unlimited."""
        return tier_limit(self.values.get(LIMIT))

    @property
    def unlimited(self) -> bool:
        return self.values.get(LIMIT, "").upper() == "TIER_UNLIMITED"

    def blocked(self, name: str, language: str) -> TemplateStatus | None:
        """The template's last status when it cannot carry a message, else None."""
        status = self.templates.get((name, language))
        return status if status is not None and status.event not in SENDABLE else None

    def quality_warning(self) -> str | None:
        """French ATTENTION text when the quality rating dropped or is not green."""
        quality = self.values.get(QUALITY, "")
        previous = self.values.get(PREVIOUS_QUALITY, "")
        event = self.values.get(QUALITY_EVENT, "")
        dropped = QUALITY_RANK.get(quality, 3) < QUALITY_RANK.get(previous, 0)
        if dropped or quality in ("YELLOW", "RED") or event in _DROPS:
            was = f" (était {previous})" if previous and previous != quality else ""
            seen = f", événement {event}" if event in _DROPS else ""
            return (f"ATTENTION : qualité du numéro WhatsApp {quality or 'inconnue'}{was}{seen}"
                    " : des adhérents bloquent ou signalent les messages ; Meta peut baisser le "
                    "plafond. Vérifier que chacun a demandé les alertes.")
        return None


def read_account(store: DeliveryStore) -> Account:
    account = Account()
    with store.read() as conn:
        for name, language, event, reason, at in conn.execute(
            "SELECT name, language, event, reason, received_at FROM modeles_meta"
        ):
            account.templates[(name, language)] = TemplateStatus(
                name, language, event, reason or "", at)
        account.values = dict(conn.execute("SELECT cle, valeur FROM compte_meta").fetchall())
    return account


def etat_values(account: Account) -> dict[str, str]:
    """The `Etat` rows about the account (empty when nothing is known)."""
    rows: dict[str, str] = {}
    tier = account.values.get(LIMIT)
    if tier:
        limit = account.daily_limit
        rows["whatsapp_plafond"] = f"{tier} ({limit} destinataires par 24 h, lu chez Meta)" \
            if limit else f"{tier} (lu chez Meta)"
    quality = account.values.get(QUALITY)
    if quality or account.values.get(QUALITY_EVENT):
        rows["whatsapp_qualite"] = account.quality_warning() or quality or "?"
    if account.templates:
        rows["modeles_whatsapp"] = " ; ".join(
            f"{t.name} ({t.language}) : {t.event}{f' ({t.reason})' if t.reason else ''}"
            for t in sorted(account.templates.values(), key=lambda t: (t.name, t.language)))
    return rows
