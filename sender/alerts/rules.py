"""Checks on an `Alertes` row before anything is sent (DESIGN.md §1 and §4).

`check_alert` is pure: the current time is a parameter, the authorised officers are given by the
caller (see `active_officers`). It reports every problem found, each as a French sentence an
officer can act on, and never raises whatever the cells contain. The checks themselves live in
`fields.py`, `timing.py` and `places.py`; officers in `officers.py`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime

from sender.alerts.fields import MAX_DESCRIPTION, MAX_LENGTHS, FieldChecks
from sender.alerts.model import (
    PREVENTION,
    VERDICT_ACCEPTED,
    VERDICT_IGNORED,
    VERDICT_REFUSED,
    Alert,
    Officer,
    Verdict,
)
from sender.alerts.officers import active_officers, is_truthy, normalise_identifiant
from sender.alerts.places import MAX_TARGET_ACTIVITIES, MAX_TARGET_COMMUNES, PlaceChecks
from sender.alerts.timing import CLOCK_SKEW, MAX_DELAY, DateChecks, aware
from sender.text import clean, fold, quote

__all__ = [
    "CLOCK_SKEW",
    "MAX_DELAY",
    "MAX_DESCRIPTION",
    "MAX_LENGTHS",
    "MAX_TARGET_ACTIVITIES",
    "MAX_TARGET_COMMUNES",
    "active_officers",
    "check_alert",
    "is_to_send",
    "is_truthy",
    "normalise_identifiant",
]


def is_to_send(statut: object) -> bool:
    """« à diffuser », « a diffuser », « À DIFFUSER  »…"""
    return fold(clean(statut)[:40]) == "a diffuser"


def check_alert(
    row: Mapping[str, object],
    *,
    officers: Mapping[str, Officer] | Collection[str],
    now: datetime,
    stale_hours: float = 48,
) -> Verdict:
    """Decide whether an `Alertes` row may be broadcast.

    `officers` is what `active_officers` returns (or any collection of identifiants already passed
    through `normalise_identifiant`). `now` is the current time (a naive value is read as
    Europe/Paris). Rows whose `statut` is not « à diffuser » are « ignorée » with no motif; a
    refused row lists every problem found; an accepted row carries the checked `Alert`.
    """
    try:
        statut = row.get("statut")
        if not is_to_send(statut):
            return Verdict(VERDICT_IGNORED)
        return _Checker(row, officers, aware(now), stale_hours).run()
    except Exception as exc:  # a last resort: a row must never stop the sender
        return Verdict(
            VERDICT_REFUSED,
            [
                "Vérification impossible (erreur interne "
                f"{type(exc).__name__}) : vérifier la ligne et prévenir la CMA."
            ],
        )


class _Checker(FieldChecks, DateChecks, PlaceChecks):
    """One row's check; collects motifs in the order an officer reads the row."""

    def __init__(
        self,
        row: Mapping[str, object],
        officers: Mapping[str, Officer] | Collection[str],
        now: datetime,
        stale_hours: float,
    ) -> None:
        self.row = row
        self.officers = officers
        self.now = now
        self.stale_hours = stale_hours
        self.motifs: list[str] = []
        self.raw_dates: dict[str, str] = {}

    def text(self, column: str) -> str:
        return clean(self.row.get(column))

    def run(self) -> Verdict:
        values = {column: self.text(column) for column in (*MAX_LENGTHS, "description", "type")}
        alert_type = self.check_type(values["type"])
        timed = alert_type != PREVENTION  # an unknown type is checked as an incident
        precision = self.check_precision(alert_type, values["precision"])
        faits = self.date("faits_le", need_time=timed)
        signale = self.date("signale_le", need_time=timed)
        saisie = self.date("saisie_le", need_time=False)
        self.check_required(alert_type, values)
        if timed and faits is not None and signale is not None:
            self.check_delay(faits, signale)
        if alert_type == PREVENTION:
            self.check_staleness(saisie or signale, from_saisie=saisie is not None)
        else:
            self.check_staleness(signale, from_saisie=False)
        service = self.check_agent(values["agent"], values["service"])
        commune = self.check_commune(values["commune"])
        zone = self.check_zone()
        targets = self.check_target_communes(values["cible_communes"], zone)
        activities = self.check_activities(values["cible_activites"])
        self.check_lengths(values, alert_type)
        if self.motifs or alert_type is None:
            return Verdict(VERDICT_REFUSED, self.motifs)
        alert = Alert(
            id=values["id"],
            type=alert_type,
            precision=precision,
            faits_le=faits,
            signale_le=signale,
            saisie_le=saisie,
            service=service,
            agent=values["agent"],
            commune=commune,
            commune_text=values["commune"],
            lieu=values["lieu"],
            description=values["description"],
            auteurs=values["auteurs"],
            vehicule=values["vehicule"],
            target_zone=zone or "toutes",
            target_communes=targets,
            target_activities=activities,
            statut=VERDICT_ACCEPTED,
        )
        return Verdict(VERDICT_ACCEPTED, [], alert)

    def check_agent(self, agent: str, service: str) -> str:
        key = normalise_identifiant(agent)
        if not key:
            self.motifs.append(
                "Champ « agent » vide : indiquer votre identifiant (onglet Habilitations)."
            )
            return service
        if key not in self.officers:
            self.motifs.append(
                f"Agent {quote(agent, 30)} absent de l'onglet Habilitations ou inactif."
            )
            return service
        if not service and isinstance(self.officers, Mapping):
            officer = self.officers.get(key)
            if isinstance(officer, Officer):
                return officer.service
        return service
