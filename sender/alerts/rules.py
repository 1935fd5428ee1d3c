"""Checks on an `Alertes` row before anything is sent (rules: docs/architecture.md).

`check_alert` is pure: the current time is a parameter, the authorised officers are given by the
caller (see `officers.active_officers`). It reports every problem found, each as a French sentence
an officer can act on, and never raises whatever the cells contain. Each check is a function that
returns its motifs: cells one by one in `fields.py`, dates in `timing.py`, places and audience in
`places.py`, the agent in `officers.py`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import TypeVar

from sender.alerts.fields import (
    MAX_LENGTHS,
    check_lengths,
    check_precision,
    check_required,
    check_type,
)
from sender.alerts.model import (
    PREVENTION,
    VERDICT_ACCEPTED,
    VERDICT_IGNORED,
    VERDICT_REFUSED,
    Alert,
    Officer,
    Verdict,
)
from sender.alerts.officers import check_agent
from sender.alerts.places import (
    check_activities,
    check_commune,
    check_target_communes,
    check_zone,
)
from sender.alerts.timing import aware, check_date, check_delay, check_staleness
from sender.text import cell_text, fold

_T = TypeVar("_T")

# Every cell a check reads, as cleaned text.
_TEXT_COLUMNS = (
    *MAX_LENGTHS, "description", "type", "faits_le", "signale_le", "saisie_le", "cible_zone"
)


def is_to_send(statut: object) -> bool:
    """« à diffuser », « a diffuser », « À DIFFUSER  »…"""
    return fold(cell_text(statut)[:40]) == "a diffuser"


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
        return _check(row, officers, aware(now), stale_hours)
    except Exception as exc:  # a last resort: a row must never stop the sender
        return Verdict(
            VERDICT_REFUSED,
            [
                "Vérification impossible (erreur interne "
                f"{type(exc).__name__}) : vérifier la ligne et prévenir la CMA."
            ],
        )


def _check(
    row: Mapping[str, object],
    officers: Mapping[str, Officer] | Collection[str],
    now: datetime,
    stale_hours: float,
) -> Verdict:
    """Run every check, collecting motifs in the order an officer reads the row."""
    values = {column: cell_text(row.get(column)) for column in _TEXT_COLUMNS}
    motifs: list[str] = []

    def keep(checked: tuple[_T, list[str]]) -> _T:
        value, found = checked
        motifs.extend(found)
        return value

    alert_type = keep(check_type(values["type"]))
    timed = alert_type != PREVENTION  # an unknown type is checked as an incident
    precision = keep(check_precision(alert_type, values["precision"]))
    faits = keep(check_date(row.get("faits_le"), "faits_le", now=now, need_time=timed))
    signale = keep(check_date(row.get("signale_le"), "signale_le", now=now, need_time=timed))
    saisie = keep(check_date(row.get("saisie_le"), "saisie_le", now=now, need_time=False))
    motifs += check_required(alert_type, values)
    if timed and faits is not None and signale is not None:
        motifs += check_delay(faits, signale, values)
    if alert_type == PREVENTION:
        reference, from_saisie = saisie or signale, saisie is not None
    else:
        reference, from_saisie = signale, False
    motifs += check_staleness(
        reference, now=now, stale_hours=stale_hours, from_saisie=from_saisie
    )
    service = keep(check_agent(values["agent"], values["service"], officers))
    commune = keep(check_commune(values["commune"]))
    zone = keep(check_zone(values["cible_zone"]))
    targets = keep(check_target_communes(values["cible_communes"], zone))
    activities = keep(check_activities(values["cible_activites"]))
    motifs += check_lengths(values, alert_type)
    if motifs or alert_type is None:
        return Verdict(VERDICT_REFUSED, motifs)
    alert = Alert(
        id=values["id"],
        type=alert_type,
        precision=precision,
        faits_le=faits,
        service=service,
        agent=values["agent"],
        commune=commune,
        commune_text=values["commune"],
        lieu=values["lieu"],
        description=values["description"],
        auteurs=values["auteurs"],
        vehicule=values["vehicule"],
        cible_zone=zone or "toutes",
        cible_communes=targets,
        cible_activites=activities,
        statut=VERDICT_ACCEPTED,
    )
    return Verdict(VERDICT_ACCEPTED, [], alert)
