"""What a dispatch reports, in French, for the officer, the CMA clerk and the operator."""

from __future__ import annotations

from dataclasses import dataclass, field

from sender.text import plural, seconds

BUSY_REASON = "déjà en cours d'envoi par un autre processus"


@dataclass
class DispatchReport:
    """Outcome of `Dispatcher.dispatch` for one alert.

    `sent`, `failed` and `deferred` count every targeted recipient by its journal state, earlier
    runs included; `waiting` are sends whose answer was lost and whose status webhook may still
    come; `unconfirmed` are sends whose answer was lost and that are not sent again (no member
    gets more than two copies); `not_sent` is everything else (interrupted, or transient
    failures retried at the next dispatch).
    `recipients == sent + failed + deferred + waiting + unconfirmed + not_sent`.
    """

    alert_id: str
    recipients: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    not_sent: int = 0
    waiting: int = 0
    unconfirmed: int = 0
    sent_now: int = 0  # sent by this run
    sent_by_fallback: int = 0  # sent by this run through the SMS fallback channel
    stopped_motif: str | None = None  # the batch stopped: statut « erreur »
    paused_motif: str | None = None  # the API stopped answering: resumed at the next cycle
    busy: bool = False
    cancelled: bool = False  # the officer set the row « annulée » during the run
    retrigger: bool = False  # the alert was put back to « à diffuser » after a first dispatch
    already_reached: int = 0  # with `retrigger`: members reached before, not sent again
    failure_motifs: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    @property
    def complete(self) -> bool:
        """True when every recipient is sent, definitively failed or left unconfirmed."""
        return not self.busy and self.sent + self.failed + self.unconfirmed == self.recipients

    def add_failure(self, motif: str | None) -> None:
        text = motif or "raison inconnue"
        self.failure_motifs[text] = self.failure_motifs.get(text, 0) + 1

    def failure_lines(self) -> list[str]:
        """French reasons, most frequent first: `3 × numéro absent de WhatsApp`."""
        ordered = sorted(self.failure_motifs.items(), key=lambda item: (-item[1], item[0]))
        return [f"{count} × {reason}" for reason, count in ordered]

    def summary_line(self) -> str:
        """One French line, for logs, non-interactive terminals and the register."""
        if self.busy:
            return f"Alerte {self.alert_id} : {BUSY_REASON} ; rien n'a été envoyé par ce processus."
        parts = [plural(self.sent, "envoyé")]
        if self.sent_by_fallback:
            parts[0] += f" (dont {self.sent_by_fallback} par SMS de secours)"
        parts.append(plural(self.failed, "échec"))
        if self.deferred:
            parts.append(plural(self.deferred, "reporté"))
        if self.waiting:
            parts.append(f"{self.waiting} en attente de confirmation")
        if self.unconfirmed:
            parts.append(plural(self.unconfirmed, "non confirmé", "non confirmés"))
        if self.not_sent:
            parts.append(plural(self.not_sent, "non envoyé", "non envoyés"))
        line = (
            f"Alerte {self.alert_id} : {plural(self.recipients, 'destinataire')}, "
            f"{', '.join(parts)} — {seconds(self.elapsed)}."
        )
        if self.stopped_motif:
            line += f" Envoi arrêté : {self.stopped_motif}"
        elif self.paused_motif:
            line += f" {self.paused_motif}"
        return line

    def notes_line(self) -> str:
        """French sentences for the alert's `motif`: re-dispatch, lost answers, limits."""
        notes: list[str] = []
        if self.paused_motif:
            notes.append(self.paused_motif)
        if self.retrigger:
            reached = plural(
                self.already_reached, "adhérent déjà atteint", "adhérents déjà atteints"
            )
            notes.append(
                "Nouvelle diffusion : seuls les adhérents visés pas encore atteints la "
                "reçoivent"
                + (
                    f" ({reached} ne la reçoivent pas une seconde fois)."
                    if self.already_reached
                    else "."
                )
            )
        if self.waiting:
            notes.append(
                f"{plural(self.waiting, 'envoi', 'envois')} sans réponse de WhatsApp : en "
                "attente de son accusé (webhook) avant tout renvoi."
            )
        if self.unconfirmed:
            notes.append(
                f"{plural(self.unconfirmed, 'envoi non confirmé', 'envois non confirmés')} "
                "(réponse perdue deux fois) : pas de nouvel essai, pour ne jamais envoyer plus "
                "de deux fois le même message."
            )
        notes.extend(self.notes)
        return " ".join(notes)

    def describe(self) -> str:
        """Several French lines: summary, notes, failure reasons."""
        lines = [self.summary_line(), *self.notes]
        if self.failure_motifs:
            lines.append("Raisons des échecs :")
            lines.extend(f"  - {line}" for line in self.failure_lines())
        return "\n".join(lines)
