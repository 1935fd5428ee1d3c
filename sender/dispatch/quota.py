"""The WhatsApp messaging-limit tier: unique numbers per rolling 24 h.

Contacting a number already contacted in the window is free; each new number uses one unit of
the remaining quota. Recipients beyond it are deferred (policy « reporter ») or sent by SMS
(policy « sms »).
"""

from __future__ import annotations

from sender.journal.journal import Journal
from sender.text import plural

WINDOW_SECONDS = 24 * 3600

CHANNEL_LABELS = {"whatsapp": "WhatsApp", "sms": "SMS", "outbox": "fichier de sortie"}

PRIMARY = "primary"
FALLBACK = "fallback"


class DailyQuota:
    """Decides, recipient by recipient, the route under the daily limit (not thread-safe)."""

    def __init__(
        self,
        journal: Journal,
        channel: str,
        limit: int,
        *,
        policy: str = "reporter",
        has_fallback: bool = False,
        now: float | None = None,
    ) -> None:
        self.limit = limit
        self.channel = channel
        self.label = CHANNEL_LABELS.get(channel, channel)
        self.policy = policy  # « reporter » or « sms », checked by Settings (ALERTE_DEPASSEMENT)
        self.has_fallback = has_fallback
        since = None if now is None else now - WINDOW_SECONDS
        self._contacted = journal.contacted_since(since, channel=channel)
        self.used_before = len(self._contacted)
        self.remaining = max(0, limit - self.used_before)
        self.deferred = 0
        self.rerouted = 0

    def route(self, numero: str) -> str | None:
        """PRIMARY, FALLBACK (SMS instead), or None (defer to a later cycle)."""
        if numero in self._contacted:
            return PRIMARY
        if self.remaining > 0:
            self.remaining -= 1
            self._contacted.add(numero)
            return PRIMARY
        if self.policy == "sms" and self.has_fallback:
            self.rerouted += 1
            return FALLBACK
        self.deferred += 1
        return None

    @property
    def reason(self) -> str:
        """French text stored on deferred rows."""
        return (
            f"plafond {self.label} de {self.limit} numéros différents par 24 h atteint : "
            "envoi reporté à un prochain cycle"
        )

    def notes(self) -> list[str]:
        """French explanations for the report (empty when the limit was not reached)."""
        head = (
            f"Plafond {self.label} atteint ({self.limit} numéros différents par 24 h "
            f"glissantes, dont {self.used_before} déjà contactés avant cet envoi)"
        )
        notes = []
        if self.rerouted:
            who = plural(self.rerouted, "destinataire contacté", "destinataires contactés")
            notes.append(f"{head} : {who} par SMS au lieu de {self.label}.")
        if self.deferred:
            why = ""
            if self.policy == "sms" and not self.has_fallback:
                why = " (politique « sms » demandée, mais aucun canal SMS de secours configuré)"
            who = plural(self.deferred, "destinataire reporté", "destinataires reportés")
            notes.append(
                f"{head} : {who}{why} ; envoi à un prochain cycle, dès que la fenêtre de 24 h "
                "le permettra."
            )
        return notes
