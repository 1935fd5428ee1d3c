"""The `controle` line of a « brouillon » row: what the sender would do with it now.

One French line for the officer, before sending: the verdict the row would get (the number of
recipients, or the exact refusal and how to fix it), the time left to send it, the split
between WhatsApp and SMS and the estimated cost (indicative rates, « environ »). Pure: the
cycle gives the plan's figures, the current time and the channels (`Audience`).

The time left is worded coarsely (minutes in the last hour, hours before, days beyond two
days) so that a draft left in the sheet rewrites its line at most once a minute.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sender.alerts.compose import ComposedMessage
from sender.alerts.model import PREVENTION, normalise_type
from sender.alerts.sequel import short_moment
from sender.alerts.timing import MAX_DELAY, check_date
from sender.costs import Rates, euros
from sender.dates import elapsed
from sender.schema import A_DIFFUSER, SEQUEL_MAX_DAYS
from sender.text import duration, hour, plural

MAX_LINE = 1500  # characters: a refusal lists every problem, a cell stays readable


@dataclass(frozen=True)
class Audience:
    """The channels a dispatch would use: the primary one (whatsapp, sms or outbox), whether
    an SMS fallback is configured, and the numbers the journal knows have no WhatsApp."""

    primary: str
    fallback: bool = False
    without_whatsapp: frozenset[str] = field(default_factory=frozenset)
    rates: Rates = field(default_factory=Rates)

    def split(self, numeros: Sequence[str], messages: Mapping[str, ComposedMessage]) -> str:
        """« WhatsApp 300, SMS 12, environ 8,46 € » for these recipients."""
        count = len(numeros)
        if self.primary == "outbox":
            return "fichier de sortie (essai, sans frais)"
        sms_message = messages.get("sms") or messages.get(self.primary)
        parts = sms_message.sms.segments if sms_message is not None else 1
        if self.primary == "sms":
            return f"SMS {count}, environ {euros(self.rates.estimate(0, count * parts))}"
        by_sms = len(self.without_whatsapp.intersection(numeros)) if self.fallback else 0
        cost = self.rates.estimate(count - by_sms, by_sms * parts)
        return f"WhatsApp {count - by_sms}, SMS {by_sms}, environ {euros(cost)}"


def controle_line(
    *,
    status: str,
    motif: str,
    error: bool,
    numeros: Sequence[str],
    messages: Mapping[str, ComposedMessage],
    audience: Audience,
    timing: str,
    suite_de: str = "",
) -> str:
    """The line itself; `status` and `motif` are the plan's, as if the row were « à diffuser »;
    `timing` is `timing_note`'s text."""
    tail = f" ({timing})" if timing else ""
    if status == A_DIFFUSER:
        what = f"suite de l'alerte n° {suite_de} pour " if suite_de else ""
        line = (
            f"Prête : {what}{plural(len(numeros), 'destinataire')} "
            f"({audience.split(numeros, messages)}) ; {timing or 'sans limite de temps'}. "
            f"Pour l'envoyer : statut « {A_DIFFUSER} »."
        )
    elif error:
        line = f"Erreur de modèle si elle était envoyée maintenant : {motif}{tail}"
    else:
        line = f"Refusée si elle était envoyée maintenant : {motif}{tail}"
    return line if len(line) <= MAX_LINE else line[: MAX_LINE - 1] + "…"


def _left(deadline: datetime, now: datetime, what: str) -> str:
    """« encore 36 min pour diffuser », or in hours (days beyond 48 h) with the deadline."""
    minutes = int((deadline - now).total_seconds() // 60)
    if minutes < 1:
        return f"délai pour {what} dépassé"
    if minutes < 60:
        return f"encore {minutes} min pour {what}"
    until = f"jusqu'au {short_moment(deadline)}"
    if minutes < 48 * 60:
        return f"encore {minutes // 60} h pour {what} ({until})"
    return f"encore {minutes // (24 * 60)} jours pour {what} ({until})"


def timing_note(
    values: Mapping[str, object],
    *,
    now: datetime,
    stale_hours: float,
    sequel_sent: datetime | None = None,
) -> str:
    """The one-hour rule and the time left to send the row (`sequel_sent`: when the original
    of a follow-up went out)."""
    if sequel_sent is not None:
        deadline = sequel_sent + timedelta(days=SEQUEL_MAX_DAYS)
        left = _left(deadline, now, "l'envoyer")
        return f"suite sans règle d'une heure, {left}"
    kind = normalise_type(str(values.get("type") or ""))
    faits, _ = check_date(values.get("faits_le"), "faits_le", now=now, need_time=True)
    signale, _ = check_date(values.get("signale_le"), "signale_le", now=now, need_time=True)
    saisie, _ = check_date(values.get("saisie_le"), "saisie_le", now=now, need_time=False)
    if kind == PREVENTION:
        reference = saisie or signale
        if reference is None:
            return "prévention : ni règle d'une heure ni limite de temps"
        deadline = reference + timedelta(hours=stale_hours)
        return f"prévention sans règle d'une heure, {_left(deadline, now, 'diffuser')}"
    if faits is None:
        return ""
    if signale is None:
        return (
            "règle d'une heure : le signalement doit dater d'avant "
            f"{hour(faits + MAX_DELAY)}, l'indiquer dans « signale_le »"
        )
    delay = elapsed(faits, signale)
    if not timedelta(0) <= delay < MAX_DELAY:
        return ""  # the refusal says it
    deadline = signale + timedelta(hours=stale_hours)
    return (
        f"signalée {duration(delay)} après les faits, règle d'une heure respectée, "
        f"{_left(deadline, now, 'diffuser')}"
    )
