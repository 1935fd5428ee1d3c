"""A sign-up made entirely on WhatsApp: the questions, the answers, the row (pure, no I/O).

Someone sends « INSCRIPTION » to the network's number; each of their next messages answers one
short question: name, business, trade (by its number in `schema.ACTIVITES`), commune (matched
leniently, and asked back when the match is not what they typed), then a summary they accept
with « OUI ». That last message is the proof of consent: its id goes in `consentement`.

Every message is free-form: the person wrote to us less than 24 hours ago (WhatsApp's
customer-service window), so nothing is billed and no template is needed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sender import schema
from sender.dates import format_iso
from sender.domain.communes import match_commune, normalise_name
from sender.text import cell_text, fold, neutralise

NOM, ENTREPRISE, ACTIVITE, COMMUNE, COMMUNE_OK, ACCORD = (
    "nom", "entreprise", "activite", "commune", "commune_ok", "accord",
)
MAX_ANSWER = {NOM: 120, ENTREPRISE: 150, COMMUNE: 120}
YES = frozenset({"oui", "o", "ok", "yes", "d accord", "daccord", "oui merci"})
NO = frozenset({"non", "n", "no", "annuler"})

START = (
    "Bienvenue sur Alerte Message, le réseau d’alerte des commerçants et artisans de Lozère "
    "(CMA de la Lozère). 4\u00a0questions pour vous inscrire\u202f; envoyez STOP pour arrêter."
)
QUESTIONS = {
    NOM: "1/4\u00a0– Votre nom et votre prénom\u202f?",
    ENTREPRISE: "2/4\u00a0– Le nom de votre entreprise\u202f?",
    ACTIVITE: "3/4\u00a0– Votre activité\u202f? Répondez par son numéro\u00a0:\n"
    + "\n".join(f"{i}. {name}" for i, name in enumerate(schema.ACTIVITES, 1)),
    COMMUNE: "4/4\u00a0– Votre commune, en Lozère\u202f?",
}
ACTIVITE_AGAIN = f"Répondez par un numéro de 1 à {len(schema.ACTIVITES)}."
EMPTY = "Votre réponse est vide ou trop longue\u00a0: renvoyez-la, en une ligne."
COMMUNE_UNKNOWN = (
    "«\u00a0{typed}\u00a0» n’est pas une commune de Lozère que nous connaissons. Vérifiez "
    "l’orthographe et renvoyez le nom de votre commune."
)
COMMUNE_CHECK = (
    "Vous voulez dire «\u00a0{commune}\u00a0»\u202f? Répondez OUI, ou renvoyez le nom de votre "
    "commune."
)
SUMMARY = (
    "Récapitulatif\u00a0:\n{nom}, {entreprise}\n{activite}\n{commune}\n\n"
    "Répondez OUI pour vous inscrire\u00a0: la CMA de la Lozère conserve ces informations et "
    "ce message comme preuve de votre accord, et vous envoie les alertes sur ce numéro. "
    "Répondez NON pour annuler."
)
YES_OR_NO = "Répondez OUI pour vous inscrire, ou NON pour annuler."
DONE = (
    "C’est fait\u00a0: vous êtes inscrit au réseau Alerte Message. Vous recevrez les alertes "
    "sur ce numéro. Pour arrêter à tout moment, envoyez STOP."
)
CANCELLED = "Inscription annulée. Pour recommencer, envoyez INSCRIPTION."
ALREADY_STARTED = "Votre inscription est déjà en cours."


@dataclass
class Conversation:
    """Where one number's sign-up stands."""

    step: str = NOM
    answers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Turn:
    """What one answer leads to: the conversation afterwards (None: ended), the reply, and
    the `Inscriptions` row when the person accepted."""

    conversation: Conversation | None
    reply: str
    row: dict[str, str] | None = None


def opening() -> tuple[Conversation, str]:
    """A new conversation and its first message."""
    return Conversation(), f"{START}\n\n{QUESTIONS[NOM]}"


def question(conversation: Conversation) -> str:
    """The question the conversation waits an answer to (asked again)."""
    answers = conversation.answers
    if conversation.step == COMMUNE_OK:
        return COMMUNE_CHECK.format(commune=answers.get(COMMUNE, ""))
    if conversation.step == ACCORD:
        return summary(answers)
    return QUESTIONS[conversation.step]


def summary(answers: dict[str, str]) -> str:
    return SUMMARY.format(**{k: answers.get(k, "") for k in (NOM, ENTREPRISE, ACTIVITE, COMMUNE)})


def _text_answer(text: str, step: str) -> str | None:
    value = cell_text(text)
    return value if value and len(value) <= MAX_ANSWER[step] else None


def _activite(text: str) -> str | None:
    folded = fold(text)
    if folded.isdigit() and 1 <= int(folded) <= len(schema.ACTIVITES):
        return schema.ACTIVITES[int(folded) - 1]
    return next((a for a in schema.ACTIVITES if fold(a) == folded), None)


def _commune(conversation: Conversation, text: str) -> Turn:
    typed = _text_answer(text, COMMUNE)
    if typed is None:
        return Turn(conversation, EMPTY)
    commune = match_commune(typed)
    if commune is None:
        return Turn(conversation, COMMUNE_UNKNOWN.format(typed=typed[:60]))
    conversation.answers[COMMUNE] = commune.nom
    if normalise_name(typed) != normalise_name(commune.nom):
        conversation.step = COMMUNE_OK  # « Florac » for Florac Trois Rivières: asked back
        return Turn(conversation, question(conversation))
    conversation.step = ACCORD
    return Turn(conversation, summary(conversation.answers))


def answer(
    conversation: Conversation, text: str, *, numero: str, message_id: str, now: datetime
) -> Turn:
    """The next turn after the person's message `text` (`message_id`, from `numero`)."""
    step, answers = conversation.step, conversation.answers
    if step in (NOM, ENTREPRISE):
        value = _text_answer(text, step)
        if value is None:
            return Turn(conversation, EMPTY)
        answers[step] = value
        conversation.step = ENTREPRISE if step == NOM else ACTIVITE
        return Turn(conversation, QUESTIONS[conversation.step])
    if step == ACTIVITE:
        activite = _activite(text)
        if activite is None:
            return Turn(conversation, ACTIVITE_AGAIN)
        answers[ACTIVITE] = activite
        conversation.step = COMMUNE
        return Turn(conversation, QUESTIONS[COMMUNE])
    if step == COMMUNE_OK and fold(text) in YES:
        conversation.step = ACCORD
        return Turn(conversation, summary(answers))
    if step in (COMMUNE, COMMUNE_OK):
        return _commune(conversation, text)
    if fold(text) in YES:
        return Turn(None, DONE, signup_row(answers, numero=numero, message_id=message_id, now=now))
    if fold(text) in NO:
        return Turn(None, CANCELLED)
    return Turn(conversation, YES_OR_NO)


def signup_row(
    answers: dict[str, str], *, numero: str, message_id: str, now: datetime
) -> dict[str, str]:
    """The `Inscriptions` row of an accepted WhatsApp sign-up: source `whatsapp`, consent
    proven by the id of the « OUI » message, confirmed at once (the number wrote to us)."""
    stamp = format_iso(now)
    return {
        "horodatage": stamp,
        "source": schema.SOURCE_WHATSAPP,
        "nom": neutralise(answers.get(NOM, "")),
        "entreprise": neutralise(answers.get(ENTREPRISE, "")),
        "activite": neutralise(answers.get(ACTIVITE, "")),
        "commune": neutralise(answers.get(COMMUNE, "")),
        "telephone": numero,
        "consentement": neutralise(f"whatsapp {stamp} {message_id}"),
        "confirme_le": stamp,
    }
