"""What outbound messages spent, and what confirmations may still spend (the I/O around
`planning.Budget` and `brake.brake`): the figures `Etat` shows, the monthly SMS ceiling, the
state of the fraud brake and its resumption (`alerte-message confirmations --reprendre`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sender.config import Settings
from sender.consent.brake import RESUMED_KEY, BrakeState, brake
from sender.consent.codes import request_code
from sender.consent.planning import DAY, PREFIX, WEEK, Budget, History
from sender.consent.requests import ConfirmationRequest
from sender.costs import Rates, euros
from sender.dates import PARIS
from sender.journal.counts import ACCUSE, ALERTE, CONFIRMATION, Count, day_of
from sender.journal.journal import Journal
from sender.text import plural

KIND_LABELS = {ALERTE: "alertes", CONFIRMATION: "confirmations", ACCUSE: "accusés"}
CHANNEL_LABELS = {"whatsapp": "WhatsApp", "sms": "SMS", "outbox": "fichier"}


def month_start(timestamp: float) -> str:
    """The first day of the Europe/Paris month of a Unix time, `2026-12-01`."""
    return datetime.fromtimestamp(timestamp, PARIS).date().replace(day=1).isoformat()


def sms_parts(rows: Sequence[Count]) -> int:
    return sum(row.parts for row in rows if row.channel == "sms")


def cost(rows: Sequence[Count], rates: Rates) -> float:
    """Estimated cost: WhatsApp templates (alerts and confirmations; acknowledgements are free
    replies) and SMS parts."""
    templates = sum(
        row.messages for row in rows if row.channel == "whatsapp" and row.kind != ACCUSE
    )
    return rates.estimate(templates, sms_parts(rows))


def describe(rows: Sequence[Count], rates: Rates) -> str:
    """`alertes : 12 WhatsApp, 3 SMS (6 parties) ; confirmations : 2 WhatsApp ; coût estimé
    0,42 € (estimation indicative)`, or `aucun envoi`."""
    by_kind: dict[str, list[str]] = {}
    for row in rows:
        if not row.messages:
            continue
        text = f"{row.messages} {CHANNEL_LABELS.get(row.channel, row.channel)}"
        if row.channel == "sms":
            text += f" ({plural(row.parts, 'partie')})"
        by_kind.setdefault(KIND_LABELS.get(row.kind, row.kind), []).append(text)
    if not by_kind:
        return "aucun envoi"
    parts = [f"{kind} : {', '.join(texts)}" for kind, texts in by_kind.items()]
    return " ; ".join(parts) + f" ; coût estimé {euros(cost(rows, rates))} (estimation indicative)"


@dataclass(frozen=True)
class OutboundState:
    """What outbound confirmations may spend now, and why not."""

    budget: Budget
    brake: BrakeState
    sms_parts_month: int
    sms_ceiling: int

    @property
    def sms_open(self) -> bool:
        return self.sms_parts_month < self.sms_ceiling

    def etat(self) -> str:
        """The `confirmations_sortantes` line of `Etat`."""
        warnings = []
        if self.brake.engaged:
            warnings.append(
                f"envois de confirmation en pause : {self.brake.describe()} ; après "
                "vérification, « alerte-message confirmations --reprendre » les relance"
            )
        parts = f"{plural(self.sms_parts_month, 'partie')} sur {_whole(self.sms_ceiling)}"
        if not self.sms_open:
            warnings.append(
                f"plafond mensuel de SMS atteint ({parts}) : plus de confirmation par SMS ce "
                "mois-ci"
            )
        if warnings:
            return "ATTENTION : " + " ; ".join(warnings)
        used = ", ".join(
            f"{CHANNEL_LABELS.get(c, c)} {n}" for c, n in sorted(self.budget.used.items()) if n
        ) or "aucun"
        return (
            f"en service : {used} sur {self.budget.per_day} par canal et par 24 h ; SMS du "
            f"mois : {parts}"
        )


def _whole(number: int) -> str:
    """`2 000`, French thousands."""
    return f"{number:,}".replace(",", "\u00a0")


def history(journal: Journal, now: float) -> list[History]:
    """The confirmation messages sent (or maybe sent) in the last 7 days, oldest first."""
    return [
        History(message_id, numero, channel, at)
        for message_id, numero, channel, at in journal.confirmation_history(PREFIX, now - WEEK)
    ]


def outbound_state(
    settings: Settings,
    journal: Journal,
    waiting: Collection[str],
    now: float,
    sent: Sequence[History] | None = None,
) -> OutboundState:
    """The budget, the brake and the SMS ceiling now; `waiting`: the message ids of the requests
    still waiting for their confirmation (the brake counts them as unconfirmed)."""
    limits = settings.limits
    sent = history(journal, now) if sent is None else sent
    resumed = journal.get_value(RESUMED_KEY)
    state = brake(sent, waiting, now, float(resumed) if resumed else None)
    month = journal.counts_since(month_start(now))
    used = Counter(item.channel or "" for item in sent if item.at >= now - DAY)
    return OutboundState(
        Budget(
            limits.confirmations_per_day, dict(used),
            sms_open=sms_parts(month) < limits.sms_parts_per_month,
            paused=state.describe() if state.engaged else None,
        ),
        state, sms_parts(month), limits.sms_parts_per_month,
    )


def resume(journal: Journal, now: float) -> None:
    """Resume outbound confirmations held by the brake (only later messages count)."""
    journal.set_value(RESUMED_KEY, repr(now))


def etat_figures(journal: Journal, rates: Rates, now: float) -> dict[str, str]:
    """`Etat` lines `envois_jour` and `envois_mois`."""
    return {
        "envois_jour": describe(journal.counts_since(day_of(now)), rates),
        "envois_mois": describe(journal.counts_since(month_start(now)), rates),
    }


def mark_asked(
    pending: Sequence[ConfirmationRequest], asked: Collection[tuple[str, str]], secret: bytes
) -> list[ConfirmationRequest]:
    """The pending requests, `envoi_demande` set on those whose (kind, code) the person asked an
    SMS for (`journal/asked.py`; the code is `codes.request_code` of the request)."""
    if not asked:
        return list(pending)
    return [
        replace(request, envoi_demande=True)
        if request.made_at is not None and (
            request.kind,
            request_code(secret, request.kind, request.numero, request.made_at),
        ) in asked
        else request
        for request in pending
    ]
