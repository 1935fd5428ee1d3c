"""Which confirmation messages a cycle sends (pure): a small, budgeted fallback.

Outbound confirmations cost money and can be abused (SMS pumping, harassment of a number typed
by someone else): every rule here bounds what a stranger filling the form can spend.

- Only numbers issued in `Limits.countries` ever get one.
- One outstanding request per number: the newest request of a number replaces the older ones
  (whatever the form, the spelling or the kind).
- A request gets one message: once sent (or maybe sent) it is never sent again, on no day; a
  request only `gave_up` (transient error) or `deferred` is tried again.
- One number gets at most `PER_NUMBER_PER_DAY` confirmation messages per rolling 24 h and
  `PER_NUMBER_PER_WEEK` per rolling 7 days, whoever fills the form with it.
- At most `Limits.confirmations_per_day` confirmation messages per channel per rolling 24 h;
  beyond, requests wait (and expire after their validity if nobody confirms). Alerts are never
  counted here.
- A confirmation goes by SMS only when the person asked for it on the page (`envoi_demande`) or
  when SMS is the network's channel; never because WhatsApp refused the number. No SMS once the
  month's ceiling of billed parts is reached.
- The fraud brake (`brake.py`) pauses them all.
- Under WhatsApp's daily limit of unique numbers, confirmations only use what an alert to
  every active member would leave (`room`, from `budget`).

Requests where the person asked for a message come first, then the oldest.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from sender.consent.requests import ConfirmationRequest
from sender.domain.phones import allowed_country
from sender.limits import PER_NUMBER_PER_DAY, PER_NUMBER_PER_WEEK
from sender.text import plural

PREFIX = "confirmation-"
DAY = 86_400.0
WEEK = 7 * DAY
# Reasons a request is held, as the register's `remarque` completes them.
HELD_PREFIX = "reporté : "
FOREIGN = "numéro d’un autre pays : aucun message n’est envoyé"
REPLACED = "remplacée par une demande plus récente pour ce numéro"


@dataclass(frozen=True, slots=True)
class History:
    """A confirmation message sent (or maybe sent): id, number, channel, Unix time."""

    message_id: str
    numero: str
    channel: str | None
    at: float


@dataclass(frozen=True, slots=True)
class Budget:
    """One cycle's view of what outbound confirmations may still spend."""

    per_day: int  # per channel, rolling 24 h
    used: Mapping[str, int]  # confirmation messages per channel in the last 24 h
    sms_open: bool = True  # the month's SMS ceiling is not reached
    paused: str | None = None  # the fraud brake's French motif, when it holds everything

    def left(self, channel: str) -> int:
        return max(0, self.per_day - self.used.get(channel, 0))


@dataclass
class ConfirmationPlan:
    to_send: list[tuple[ConfirmationRequest, str]] = field(default_factory=list)  # + channel
    held: dict[tuple[str, str], str] = field(default_factory=dict)  # why, per request
    counts: Counter[str] = field(default_factory=Counter)  # held requests by reason

    def hold(self, request: ConfirmationRequest, reason: str, motif: str) -> None:
        self.counts[reason] += 1
        self.held[(request.message_id, request.numero)] = motif

    @property
    def waiting(self) -> int:
        """Requests that may still get their message later (not replaced, not foreign)."""
        return sum(n for r, n in self.counts.items() if r not in ("replaced", "foreign"))

    def notes(self, budget: Budget) -> list[str]:
        texts = {
            "paused": f"messages de confirmation en pause : {budget.paused}",
            "budget": (f"budget de {budget.per_day} messages de confirmation par canal et "
                       "par 24 h atteint"),
            "sms_ceiling": "plafond mensuel de SMS atteint : plus de confirmation par SMS",
            "number": (f"{PER_NUMBER_PER_DAY} message par numéro et par 24 h, "
                       f"{PER_NUMBER_PER_WEEK} par 7 jours au plus"),
            "quota": "le plafond journalier WhatsApp reste réservé aux alertes",
            "foreign": "numéros d’autres pays : aucun message",
        }
        return [
            plural(n, "demande de confirmation retenue", "demandes de confirmation retenues")
            + f" ({texts[reason]})."
            for reason, n in sorted(self.counts.items())
            if reason in texts
        ]


def budget(
    limit: int | None, contacted: Collection[str], members: Iterable[str]
) -> int | None:
    """New numbers confirmations may reach today without crowding out an alert; None: no
    limit on this channel."""
    if limit is None:
        return None
    reserve = sum(1 for number in set(members) if number not in contacted)
    return max(0, limit - len(contacted) - reserve)


def newest_per_number(
    pending: Iterable[ConfirmationRequest],
) -> tuple[list[ConfirmationRequest], list[ConfirmationRequest]]:
    """(the newest request of each number, the older ones it replaces)."""
    by_number: dict[str, list[ConfirmationRequest]] = defaultdict(list)
    for request in pending:
        by_number[request.numero].append(request)
    kept, replaced = [], []
    for requests in by_number.values():
        ordered = sorted(requests, key=_age_key)
        kept.append(ordered[-1])
        replaced.extend(ordered[:-1])
    return kept, replaced


def _age_key(request: ConfirmationRequest) -> tuple[bool, float, str]:
    made = request.made_at.timestamp() if request.made_at is not None else 0.0
    return (request.made_at is not None, made, request.ref)


def per_number(history: Sequence[History], now: float) -> tuple[Counter[str], Counter[str]]:
    """Confirmation messages per number in the last 24 h and in the last 7 days."""
    day: Counter[str] = Counter()
    week: Counter[str] = Counter()
    for item in history:
        if item.at >= now - WEEK:
            week[item.numero] += 1
            if item.at >= now - DAY:
                day[item.numero] += 1
    return day, week


def plan(
    pending: Iterable[ConfirmationRequest],
    *,
    attempted: Collection[tuple[str, str]],
    history: Sequence[History],
    now: float,
    limits: Budget,
    countries: tuple[str, ...],
    channel_for: Callable[[ConfirmationRequest], str],
    room: int | None = None,
    contacted: Collection[str] = (),
) -> ConfirmationPlan:
    """The requests to send now and the channel of each (see the module docstring).
    `attempted`: (message id, number) already sent or maybe sent; `room`: new numbers the
    WhatsApp daily limit leaves to confirmations (None: no limit)."""
    result = ConfirmationPlan()
    allowed = []
    for request in pending:
        if allowed_country(request.numero, countries):
            allowed.append(request)
        else:
            result.hold(request, "foreign", FOREIGN)
    kept, replaced = newest_per_number(allowed)
    for request in replaced:
        result.hold(request, "replaced", REPLACED)
    day, week = per_number(history, now)
    used = Counter(limits.used)
    reached = set(contacted)
    ordered = sorted(kept, key=lambda r: (not r.envoi_demande, _age_key(r)[1:]))
    for request in ordered:
        if (request.message_id, request.numero) in attempted:
            continue  # one message per request, never sent again
        reason = _held_reason(request, day, week, limits)
        channel = channel_for(request)
        if reason is None and channel == "sms" and not limits.sms_open:
            reason = "sms_ceiling"
        if reason is None and used[channel] >= limits.per_day:
            reason = "budget"
        if (reason is None and channel == "whatsapp" and room is not None
                and request.numero not in reached):
            if room <= 0:
                reason = "quota"
            else:
                room -= 1
                reached.add(request.numero)
        if reason is not None:
            result.hold(request, reason, HELD_PREFIX + MOTIFS[reason].format(limits=limits))
            continue
        used[channel] += 1
        day[request.numero] += 1
        week[request.numero] += 1
        result.to_send.append((request, channel))
    return result


MOTIFS = {
    "paused": "envois de confirmation en pause (trop de demandes jamais confirmées)",
    "number": "ce numéro a déjà reçu un message de confirmation récemment",
    "budget": "budget de {limits.per_day} messages de confirmation par 24 h atteint, "
              "envoi dès que possible",
    "sms_ceiling": "plafond mensuel de SMS atteint, envoi le mois prochain",
    "quota": "plafond journalier WhatsApp réservé aux alertes, envoi dès que possible",
}


def _held_reason(
    request: ConfirmationRequest, day: Counter[str], week: Counter[str], limits: Budget
) -> str | None:
    if limits.paused:
        return "paused"
    if day[request.numero] >= PER_NUMBER_PER_DAY or week[request.numero] >= PER_NUMBER_PER_WEEK:
        return "number"
    return None
