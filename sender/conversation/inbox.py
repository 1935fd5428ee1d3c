"""What the cycle does with the texts people send to the network's WhatsApp number.

The webhook only stores them (`delivery.store`, kinds `code` and `texte`); the cycle, before it
reads the register, passes them here, oldest first:

- « INSCRIPTION 48-7421 » / « DESINSCRIPTION 48-7421 » (reverse confirmation,
  `consent.codes`): when the code is the one of a pending form request **of the number that
  wrote** (Meta has verified it), the request's `confirme_le` is written — as the link and the
  button do — and this very cycle's cleaning makes the member `actif` (or applies the
  unsubscription). A code of another number's request confirms nothing and is explained;
  an expired, already used or unknown code too.
- « INSCRIPTION » alone starts a sign-up conversation (`signup.py`), unless the number is
  already a member; the next texts answer its questions; a completed one appends an
  `Inscriptions` row (source `whatsapp`, confirmed, the « OUI » message's id as proof).
- « STOP » from a number in a conversation ends it (`optouts.py` writes no row for a number
  that is neither a member nor a pending request).

All the register work is one read of the request tabs (shared with the opt-outs, through
`RequestTabs`), at most one write of `confirme_le` cells and one append. The answers are
free-form texts inside WhatsApp's 24-hour customer-service window (no template, no charge);
the runner sends them after the alerts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sender import schema
from sender.cleaning.inscriptions import (
    PhoneParser,
    awaits_confirmation,
    unsubscription_awaits,
)
from sender.consent.codes import read_code_message, request_code
from sender.consent.tokens import DESINSCRIPTION, INSCRIPTION
from sender.conversation import signup
from sender.conversation.state import Conversations
from sender.dates import format_iso, parse_datetime
from sender.delivery.incoming import CODE, OPT_OUT_KINDS, TEXT
from sender.delivery.store import DeliveryStore, InboxMessage
from sender.domain.phones import from_whatsapp
from sender.register.base import Register
from sender.tables import CellChange, Row, Table
from sender.text import fold, mask_phone

log = logging.getLogger(__name__)

CONFIRMED = {
    INSCRIPTION: (
        "Merci\u00a0! Votre inscription au réseau Alerte Message est confirmée\u00a0: vous "
        "recevrez les alertes sur ce numéro. Pour arrêter à tout moment, envoyez STOP."
    ),
    DESINSCRIPTION: (
        "Votre désinscription est confirmée\u00a0: vous ne recevrez plus les alertes "
        "d’Alerte Message."
    ),
}
ALREADY = "Cette demande est déjà confirmée\u00a0: il n’y a rien d’autre à faire."
EXPIRED = (
    "Ce code a expiré. Refaites la demande sur le site Alerte Message, ou envoyez INSCRIPTION "
    "pour vous inscrire ici."
)
OTHER_NUMBER = (
    "Ce code a été donné pour un autre numéro\u00a0: il ne confirme rien depuis celui-ci. "
    "Envoyez-le depuis le téléphone indiqué dans le formulaire."
)
UNKNOWN_CODE = (
    "Ce code n’est pas reconnu. Vérifiez-le sur la page affichée après le formulaire, ou "
    "envoyez INSCRIPTION pour vous inscrire ici."
)
ALREADY_MEMBER = (
    "Ce numéro est déjà inscrit au réseau Alerte Message. Pour changer vos informations, "
    "contactez la CMA de la Lozère."
)
HELP = (
    "Pour vous inscrire au réseau d’alerte Alerte Message, envoyez INSCRIPTION. Pour ne plus "
    "recevoir les alertes, envoyez STOP."
)
SIGNUP_WORD = "inscription"
TABS = (schema.INSCRIPTIONS, schema.DESINSCRIPTIONS)


@dataclass(frozen=True, slots=True)
class _Request:
    tab: str
    key: int
    numero: str
    awaiting: bool
    expired: bool


class RequestTabs:
    """The request tabs, read once, when first needed, and what the inbox asks of them."""

    def __init__(self, register: Register, phone: PhoneParser, now: datetime) -> None:
        self.register = register
        self.phone = phone
        self.now = now
        self._tables: dict[str, Table] | None = None
        self._known: set[str] | None = None
        self._members: set[str] | None = None

    def tables(self) -> dict[str, Table]:
        if self._tables is None:
            self._tables = self.register.read(list(TABS))
        return self._tables

    def _numero(self, row: Row) -> str | None:
        return self.phone(row.get("telephone")).numero

    def _sort(self) -> None:
        members: set[str] = set()
        known: set[str] = set()
        for row in self.tables()[schema.INSCRIPTIONS].rows:
            statut = row.get("statut").strip().lower()
            if statut not in ("", schema.ACTIF, schema.EN_ATTENTE):
                continue
            numero = self._numero(row)
            if numero is None:
                continue
            known.add(numero)
            if statut == schema.ACTIF or (
                statut == "" and row.get("source").strip().lower() != schema.SOURCE_FORMULAIRE
            ):
                members.add(numero)
        for row in self.tables()[schema.DESINSCRIPTIONS].rows:
            numero = self._numero(row) if unsubscription_awaits(row) else None
            if numero is not None:
                known.add(numero)
        self._known, self._members = known, members

    def known(self) -> set[str]:
        """Numbers of members and of pending requests (E.164)."""
        if self._known is None:
            self._sort()
        assert self._known is not None
        return self._known

    def members(self) -> set[str]:
        """Numbers of active members (E.164)."""
        if self._members is None:
            self._sort()
        assert self._members is not None
        return self._members

    def requests_by_code(self, secret: bytes, days: float) -> dict[str, list[_Request]]:
        """The form requests of the last 2 × `days`, by their code."""
        found: dict[str, list[_Request]] = {}
        oldest = self.now - timedelta(days=2 * days)
        tables = self.tables()
        for tab, kind, waits in (
            (schema.INSCRIPTIONS, INSCRIPTION, awaits_confirmation),
            (schema.DESINSCRIPTIONS, DESINSCRIPTION, unsubscription_awaits),
        ):
            for row in tables[tab].rows:
                if row.get("source").strip().lower() != schema.SOURCE_FORMULAIRE:
                    continue
                made = parse_datetime(row.get("horodatage"))
                if made is None or made < oldest:
                    continue
                numero = self._numero(row)
                if numero is None:
                    continue
                code = request_code(secret, kind, numero, made)
                expired = self.now > made + timedelta(days=days)
                found.setdefault(code, []).append(
                    _Request(tab, row.key, numero, waits(row), expired)
                )
        return found


@dataclass
class InboxReport:
    confirmed: int = 0
    signups: int = 0
    replies: list[tuple[str, str]] = field(default_factory=list)  # (E.164, text)


@dataclass
class _Work:
    """One cycle's changes, applied only once the register took them."""

    changes: list[CellChange] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    states: dict[str, signup.Conversation | None] = field(default_factory=dict)
    report: InboxReport = field(default_factory=InboxReport)


class Inbox:
    """The cycle's handling of codes and conversations (see the module docstring)."""

    def __init__(
        self,
        store: DeliveryStore,
        tabs: RequestTabs,
        *,
        secret: Callable[[], bytes],
        days: float,
        clock: Callable[[], float],
        site_url: str = "",
    ) -> None:
        # The data notice, named in the summary the person accepts with « OUI ».
        self.privacy = f"{site_url.rstrip('/')}/donnees-personnelles/" if site_url else ""
        self.store = store
        self.tabs = tabs
        self.secret = secret
        self.days = days
        self.conversations = Conversations(store.file, clock=clock)
        self._codes: dict[str, list[_Request]] | None = None

    def handle(self) -> InboxReport:
        """Handle the stored codes and texts; return what to answer. Raises AlerteError when
        the register or the journal cannot be read or written (nothing is marked handled)."""
        messages = self.store.messages_not_in_register((CODE, TEXT))
        stops = self.store.messages_not_in_register(OPT_OUT_KINDS)
        work = _Work()
        if not messages and not stops:
            return work.report  # an idle cycle: no write to the journal file
        self.conversations.expire()
        for stop in stops:
            if self._conversation(work, stop.sender) is not None:
                work.states[stop.sender] = None
                work.report.replies.append((from_whatsapp(stop.sender), signup.CANCELLED))
        for message in messages:
            if message.kind == CODE:
                self._code(work, message)
            else:
                self._text(work, message)
        if work.changes:
            self.tabs.register.write(work.changes)
        if work.rows:
            self.tabs.register.append(schema.INSCRIPTIONS, work.rows)
        for sender, state in work.states.items():
            if state is None:
                self.conversations.drop(sender)
            else:
                self.conversations.put(sender, state)
        if messages:
            self.store.mark_handled(m.message_id for m in messages)
        return work.report

    def _conversation(self, work: _Work, sender: str) -> signup.Conversation | None:
        if sender in work.states:
            return work.states[sender]
        return self.conversations.get(sender)

    def _code(self, work: _Work, message: InboxMessage) -> None:
        numero = from_whatsapp(message.sender)
        parsed = read_code_message(message.body)
        if self._codes is None and parsed is not None:
            self._codes = self.tabs.requests_by_code(self.secret(), self.days)
        candidates = [
            r for r in (self._codes or {}).get(parsed.code if parsed else "", [])
            if parsed is not None and r.tab == _tab(parsed.kind)
        ]
        mine = [r for r in candidates if r.numero == numero]
        if not mine:
            reply = OTHER_NUMBER if candidates else UNKNOWN_CODE
            log.info("Code WhatsApp de %s sans effet : %s.", mask_phone(numero),
                     "numéro différent" if candidates else "code inconnu")
        elif not any(r.awaiting for r in mine):
            reply = ALREADY
        elif all(r.expired for r in mine if r.awaiting):
            reply = EXPIRED
        else:
            assert parsed is not None
            stamp = format_iso(self.tabs.now)
            for request in mine:
                if request.awaiting and not request.expired:
                    work.changes.append(
                        CellChange(request.tab, request.key, "confirme_le", stamp)
                    )
            # A second message with the same code in this cycle finds it confirmed.
            self._codes = {
                code: [_settled(r) if r in mine else r for r in requests]
                for code, requests in (self._codes or {}).items()
            }
            work.report.confirmed += 1
            reply = CONFIRMED[parsed.kind]
        work.report.replies.append((numero, reply))

    def _text(self, work: _Work, message: InboxMessage) -> None:
        numero = from_whatsapp(message.sender)
        conversation = self._conversation(work, message.sender)
        if fold(message.body) == SIGNUP_WORD:
            if conversation is not None:
                reply = f"{signup.ALREADY_STARTED}\n\n{signup.question(conversation)}"
            elif numero in self.tabs.members():
                reply = ALREADY_MEMBER
            else:
                conversation, reply = signup.opening()
                work.states[message.sender] = conversation
            work.report.replies.append((numero, reply))
            return
        if conversation is None:
            if numero not in self.tabs.members():
                work.report.replies.append((numero, HELP))
            return
        turn = signup.answer(
            conversation, message.body, numero=numero, message_id=message.message_id,
            now=self.tabs.now,
        )
        work.states[message.sender] = turn.conversation
        reply = turn.reply
        if turn.conversation is not None and turn.conversation.step == signup.ACCORD:
            reply += f"\nVos données\u00a0: {self.privacy}" if self.privacy else ""
        if turn.row is not None:
            work.rows.append(turn.row)
            work.report.signups += 1
            self.tabs.members().add(numero)
            self.tabs.known().add(numero)
            log.info("Inscription par WhatsApp de %s enregistrée.", mask_phone(numero))
        work.report.replies.append((numero, reply))


def _tab(kind: str) -> str:
    return schema.INSCRIPTIONS if kind == INSCRIPTION else schema.DESINSCRIPTIONS


def _settled(request: _Request) -> _Request:
    return _Request(request.tab, request.key, request.numero, False, request.expired)
