"""Everything held about one phone number, and what a person may ask of it (GDPR articles 15,
17, 18 and 20): `find` gathers it from the register, the journal file (send traces, incoming
messages, suppression list), the phone memo and the local outbox; `erase` removes it from all
of them; `set_suspended` limits its use (`suspendu`: kept, never alerted)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sender import schema
from sender.channels.outbox import outbox_lines, remove_outbox_lines
from sender.cleaning.inscriptions import PhoneParser
from sender.cleaning.phonecache import PhoneCache
from sender.cleaning.suppressions import SuppressionList
from sender.config import Settings
from sender.dates import PARIS, format_french
from sender.delivery.incoming import CONFIRMATION, OPT_OUT, OPT_OUT_PREFERENCE
from sender.domain.phones import parse_phone
from sender.errors import InputError
from sender.journal.file import JournalFile
from sender.journal.privacy import (
    Incoming,
    Trace,
    add_suppressions,
    erase_number,
    incoming,
    traces,
)
from sender.privacy.retention import checkpoint
from sender.register.base import Register
from sender.tables import CellChange, Row
from sender.text import mask_phone

STATES = {
    "sent": "accepté par le canal", "failed": "échec", "gave_up": "abandonné après plusieurs "
    "essais", "pending": "en cours", "uncertain": "incertain", "deferred": "reporté",
}
DELIVERY = {"accepted": "accepté", "sent": "envoyé", "delivered": "remis", "read": "lu",
            "failed": "non remis"}
KINDS = {
    OPT_OUT: "« STOP » (désinscription)",
    OPT_OUT_PREFERENCE: "arrêt des messages choisi dans WhatsApp",
    CONFIRMATION: "confirmation (bouton « Je confirme »)",
}


def number_of(text: str) -> str:
    """The E.164 number of a typed number, any spelling; a French `InputError` otherwise."""
    numero = parse_phone(text).numero
    if not numero:
        raise InputError(
            f"« {text} » n'est pas un numéro de téléphone reconnu : écrivez-le par exemple "
            "06 12 34 56 78 ou +33 6 12 34 56 78."
        )
    return numero


def _when(stamp: float | None) -> str:
    return format_french(datetime.fromtimestamp(stamp, PARIS)) if stamp else ""


@dataclass
class Person:
    """What is held about `numero`, wherever it is."""

    numero: str
    inscriptions: list[Row] = field(default_factory=list)
    desinscriptions: list[Row] = field(default_factory=list)
    traces: list[Trace] = field(default_factory=list)
    incoming: list[Incoming] = field(default_factory=list)
    suppressed_at: float | None = None
    memo: list[str] = field(default_factory=list)  # the texts as typed
    outbox: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.inscriptions or self.desinscriptions or self.traces or self.incoming
                    or self.memo or self.outbox or self.suppressed_at)


def _rows_of(rows: list[Row], numero: str, phone: PhoneParser) -> list[Row]:
    return [r for r in rows if phone(r.get("telephone")).numero == numero
            or r.get("numero").strip() == numero]


def find(
    register: Register,
    settings: Settings,
    numero: str,
    *,
    phone: PhoneParser = parse_phone,
    journal: JournalFile | None = None,
) -> Person:
    journal = journal if journal is not None else JournalFile(settings.journal)
    tables = register.read([schema.INSCRIPTIONS, schema.DESINSCRIPTIONS])
    suppression = SuppressionList.load(settings, journal)
    memo = PhoneCache(settings.phone_cache_path)
    return Person(
        numero=numero,
        inscriptions=_rows_of(tables[schema.INSCRIPTIONS].rows, numero, phone),
        desinscriptions=_rows_of(tables[schema.DESINSCRIPTIONS].rows, numero, phone),
        traces=traces(journal, numero),
        incoming=incoming(journal, numero),
        suppressed_at=suppression.erased.get(suppression.digest(numero)),
        memo=[raw for raw, found in memo.entries() if found == numero],
        outbox=[r for r in outbox_lines(settings.outbox) if r.get("recipient") == numero],
    )


# -- portability: the same content as text, JSON and CSV -----------------------------------


def as_records(person: Person) -> dict[str, list[dict[str, str]]]:
    """Section → list of flat records (French keys), the content of every output format."""
    return {
        "inscriptions": [dict(r.values) for r in person.inscriptions],
        "desinscriptions": [dict(r.values) for r in person.desinscriptions],
        "alertes_recues": [
            {"alerte": t.alert_id, "cree_le": _when(t.created_at), "envoye_le": _when(t.sent_at),
             "canal": t.channel, "etat": STATES.get(t.state, t.state),
             "remise": DELIVERY.get(t.delivery, t.delivery), "remise_le": _when(t.delivery_at)}
            for t in person.traces
        ],
        "messages_recus": [
            {"type": KINDS.get(m.kind, m.kind), "recu_le": _when(m.received_at),
             "texte": m.body}
            for m in person.incoming
        ],
        "liste_de_suppression": (
            [{"efface_le": _when(person.suppressed_at),
              "contenu": "empreinte chiffrée du numéro (sans le numéro)"}]
            if person.suppressed_at else []
        ),
        "memo_des_numeros": [{"saisie": raw} for raw in person.memo],
        "fichier_de_sortie": [
            {"envoye_le": str(r.get("time", "")), "alerte": str(r.get("alert_id", "")),
             "canal": str(r.get("channel", "")), "texte": str(r.get("text") or "")}
            for r in person.outbox
        ],
    }


SECTION_TITLES = {
    "inscriptions": "Inscriptions (registre)",
    "desinscriptions": "Demandes de désinscription (registre)",
    "alertes_recues": "Alertes et messages envoyés (journal des envois)",
    "messages_recus": "Messages reçus de ce numéro",
    "liste_de_suppression": "Liste de suppression",
    "memo_des_numeros": "Mémo des numéros (saisies déjà vérifiées)",
    "fichier_de_sortie": "Fichier de sortie local (messages simulés)",
}


def as_json(person: Person) -> dict[str, Any]:
    return {"numero": person.numero, **as_records(person)}


def as_csv(person: Person) -> str:
    """One line per value: rubrique;ligne;champ;valeur (UTF-8, for a spreadsheet)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(["rubrique", "ligne", "champ", "valeur"])
    writer.writerow(["numero", 1, "numero", person.numero])
    for section, records in as_records(person).items():
        for number, record in enumerate(records, start=1):
            for name, value in record.items():
                writer.writerow([section, number, name, value])
    return buffer.getvalue()


def as_text(person: Person) -> list[str]:
    """The French report printed by `alerte-message personne`."""
    lines = [f"Données détenues pour le numéro {person.numero} :"]
    if person.empty:
        return [f"Aucune donnée détenue pour le numéro {person.numero}."]
    for section, records in as_records(person).items():
        lines.append(f"{SECTION_TITLES[section]} : {len(records) or 'rien'}")
        for record in records:
            shown = ", ".join(f"{k} : {v}" for k, v in record.items() if v)
            lines.append(f"  • {shown}")
    lines.append(_consent_line(person))
    return lines


def _consent_line(person: Person) -> str:
    """Where the consent comes from and its proof, for the member rows."""
    proofs = []
    for row in person.inscriptions:
        source = row.get("source") or "non renseignée"
        proof = (f"confirmé par le téléphone le {row.get('confirme_le')}"
                 if row.get("confirme_le") else "sans confirmation par le téléphone")
        proofs.append(f"inscription n° {row.get('id') or '?'} : source {source}, faite le "
                      f"{row.get('horodatage') or '?'}, accord « {row.get('consentement')} », "
                      f"{proof}")
    return "Consentement : " + ("; ".join(proofs) if proofs else "aucune inscription.")


# -- erasure (article 17) and limitation (article 18) --------------------------------------


def erase(
    register: Register,
    settings: Settings,
    person: Person,
    *,
    now: datetime,
    journal: JournalFile | None = None,
) -> list[str]:
    """Erase the number everywhere, keep its digest in the suppression list; what was erased,
    in French."""
    journal = journal if journal is not None else JournalFile(settings.journal)
    numero = person.numero
    suppression = SuppressionList.load(settings, journal)
    add_suppressions(journal, [suppression.digest(numero)], now.timestamp())
    rows_in = register.delete_rows(schema.INSCRIPTIONS, [r.key for r in person.inscriptions])
    rows_out = register.delete_rows(
        schema.DESINSCRIPTIONS, [r.key for r in person.desinscriptions])
    sent, received = erase_number(journal, numero)
    memo = PhoneCache(settings.phone_cache_path).forget(set(person.memo))
    outbox = remove_outbox_lines(settings.outbox, lambda r: r.get("recipient") == numero)
    checkpoint(register)
    return [
        f"Numéro {mask_phone(numero)} effacé :",
        f"  • lignes d'Inscriptions supprimées : {rows_in}",
        f"  • lignes de Desinscriptions supprimées : {rows_out}",
        f"  • traces d'envoi rendues anonymes (les comptes par alerte restent) : {sent}",
        f"  • messages reçus supprimés : {received}",
        f"  • entrées du mémo des numéros supprimées : {memo}",
        f"  • messages du fichier de sortie supprimés : {outbox}",
        "  • conservé : l'empreinte chiffrée du numéro dans la liste de suppression, pour "
        "qu'une ancienne liste importée de nouveau ne le réinscrive pas.",
    ]


def set_suspended(register: Register, person: Person, *, suspended: bool) -> int:
    """`suspendu` on the number's active rows (or back to `actif`); rows changed."""
    before, after = (
        (schema.ACTIF, schema.SUSPENDU) if suspended else (schema.SUSPENDU, schema.ACTIF))
    changes = [
        CellChange(schema.INSCRIPTIONS, row.key, "statut", after)
        for row in person.inscriptions
        if row.get("statut").strip().lower() == before
    ]
    return register.write(changes)
