"""A register with some history, for the figures and the report: members in both zones and
many trades (some trades with fewer than 5 members), alerts of every type over several months
(broadcast, refused, prevention), and a dispatch journal with real send times.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sender import schema
from sender.dates import PARIS
from sender.journal.journal import Journal
from sender.journal.states import SENT, Outcome
from sender.register.sqlite import SQLiteRegister
from support.scenario import AGENT, mobile, officer_rows

# (trade, zone, how many active members); the small trades must be merged, never shown.
MEMBERS = (
    ("Alimentation (boulangerie, boucherie, épicerie…)", "gendarmerie", 23),
    ("Alimentation (boulangerie, boucherie, épicerie…)", "police", 9),
    ("Café, hôtel, restaurant", "gendarmerie", 17),
    ("Café, hôtel, restaurant", "police", 6),
    ("Coiffure, esthétique", "gendarmerie", 8),
    ("Bâtiment", "gendarmerie", 12),
    ("Commerce de détail", "police", 11),
    ("Commerce de détail", "gendarmerie", 7),
    ("Bijouterie, horlogerie", "police", 2),  # under 5: merged
    ("Tabac, presse", "gendarmerie", 3),  # under 5: merged
    ("Pharmacie, optique, santé", "gendarmerie", 1),  # under 5: merged
)
ACTIVE_MEMBERS = sum(count for _, _, count in MEMBERS)
SMALL_TRADES = ("Bijouterie, horlogerie", "Tabac, presse", "Pharmacie, optique, santé")

# Alerts: (id, type, precision, commune, facts, minutes to report, status, recipients, motif).
_ALERTS = (
    ("1", "vol", "", "Marvejols", datetime(2026, 6, 3, 10, 5), 12, schema.DIFFUSEE, 40, ""),
    ("2", "escroquerie", "rendez-moi", "Mende", datetime(2026, 6, 20, 16, 40), 25,
     schema.DIFFUSEE, 100, ""),
    ("3", "cambriolage", "", "Florac Trois Rivières", datetime(2026, 7, 8, 6, 30), 95,
     schema.REFUSEE, 0,
     "Signalement 1 h 35 après les faits : une alerte n'est diffusée que si le signalement "
     "arrive moins d'une heure après les faits."),
    ("4", "agression", "", "Langogne", datetime(2026, 8, 14, 18, 10), 8, schema.DIFFUSEE, 60,
     ""),
    ("5", "prévention", "", "", datetime(2026, 9, 1, 9, 0), 0, schema.DIFFUSEE, 100, ""),
    ("6", "vol", "", "Saint-Chély-d'Apcher", datetime(2026, 10, 2, 11, 0), 30, schema.DIFFUSEE,
     35, ""),
    ("7", "vol", "", "Mende", datetime(2026, 10, 9, 15, 0), 10, schema.BROUILLON, 0, ""),
)
SENT_AFTER = {"1": (3, 9), "2": (2, 14), "4": (4, 7), "5": (1, 20)}  # minutes after the report


def _member_rows() -> list[dict[str, str]]:
    rows, index = [], 0
    for trade, zone, count in MEMBERS:
        for _ in range(count):
            commune = "Mende" if zone == "police" else "Marvejols"
            rows.append({
                "id": str(index + 1), "horodatage": "01/03/2026 09:00", "source": "import",
                "nom": f"Adhérent {index}", "entreprise": f"Commerce {index}",
                "activite": trade, "commune": commune, "telephone": mobile(index),
                "consentement": "v1", "statut": schema.ACTIF, "numero": mobile(index),
                "code_insee": "48095" if zone == "police" else "48092", "zone": zone,
            })
            index += 1
    # Not counted: unsubscribed, invalid.
    rows.append({"id": str(index + 1), "nom": "Parti", "activite": "Bâtiment",
                 "commune": "Mende", "telephone": mobile(index), "statut": schema.DESINSCRIT,
                 "zone": "police"})
    rows.append({"id": str(index + 2), "nom": "Fixe", "activite": "Bâtiment",
                 "commune": "Mende", "telephone": "04 66 00 00 00", "statut": schema.INVALIDE})
    return rows


def _french(moment: datetime) -> str:
    return moment.strftime("%d/%m/%Y %H:%M")


def _alert_rows() -> list[dict[str, str]]:
    rows = []
    for alert_id, kind, precision, commune, facts, delay, status, recipients, motif in _ALERTS:
        reported = facts + timedelta(minutes=delay)
        row = {
            "id": alert_id, "service": "Gendarmerie de la Lozère", "agent": AGENT,
            "type": kind, "precision": precision, "commune": commune,
            "description": "Fait fictif pour les tests.", "statut": status, "motif": motif,
            "destinataires": str(recipients) if recipients else "",
            "envoyes": str(recipients) if recipients else "",
            "echecs": "0" if recipients else "",
        }
        if kind == "prévention":
            row["saisie_le"] = _french(facts)
        else:
            row["faits_le"], row["signale_le"] = _french(facts), _french(reported)
        if status == schema.DIFFUSEE:
            row["diffusee_le"] = _french(reported + timedelta(minutes=20))
        rows.append(row)
    return rows


def report_start(alert_id: str) -> datetime:
    """When the alert was reported (or entered, for prevention), Europe/Paris."""
    for row_id, kind, _, _, facts, delay, *_ in _ALERTS:
        if row_id == alert_id:
            moment = facts if kind == "prévention" else facts + timedelta(minutes=delay)
            return moment.replace(tzinfo=PARIS)
    raise KeyError(alert_id)


def network_register(register_path: Path, journal_path: Path | None = None) -> SQLiteRegister:
    """The register above; with `journal_path`, a journal whose send times match SENT_AFTER."""
    register = SQLiteRegister(register_path)
    register.initialise()
    register.append(schema.HABILITATIONS, officer_rows())
    register.append(schema.INSCRIPTIONS, _member_rows())
    register.append(schema.ALERTES, _alert_rows())
    if journal_path is not None:
        write_journal(journal_path)
    return register


def write_journal(path: Path) -> None:
    """Two recipients per broadcast alert: one at the first, one at the last send time."""
    for alert_id, (first, last) in SENT_AFTER.items():
        start = report_start(alert_id)
        for index, minutes in enumerate((first, last)):
            clock = (start + timedelta(minutes=minutes)).timestamp()
            with Journal(path, clock=lambda clock=clock: clock) as journal:
                assert journal.acquire(alert_id, "test", 60)
                numero = mobile(index)
                journal.claim(alert_id, "test", [(numero, "whatsapp")])
                journal.record(alert_id, [Outcome(numero, SENT, "whatsapp", f"wamid.{index}")])
                journal.release(alert_id, "test")
