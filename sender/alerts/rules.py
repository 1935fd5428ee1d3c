"""Checks on an `Alertes` row before anything is sent (DESIGN.md §1 and §4).

`check_alert` is pure: the current time is a parameter, the authorised officers are given by the
caller (see `active_officers`). It reports every problem found, each as a French sentence an
officer can act on, and never raises whatever the cells contain.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from datetime import datetime, timedelta

from sender.alerts._text import (
    clean,
    day,
    day_and_hour,
    duration,
    fold,
    french_list,
    hour,
    quote,
)
from sender.alerts.model import (
    PREVENTION,
    VERDICT_ACCEPTED,
    VERDICT_IGNORED,
    VERDICT_REFUSED,
    Alert,
    Officer,
    Verdict,
    normalise_precision,
    normalise_type,
)
from sender.alerts.targeting import split_activities
from sender.communes import Commune, match_commune, split_names
from sender.dates import PARIS, DateError, elapsed, parse_datetime
from sender.schema import ALERT_TYPES, ESCROQUERIE_PRECISIONS

MAX_DELAY = timedelta(minutes=60)  # signalement − faits must be strictly under this
CLOCK_SKEW = timedelta(minutes=5)  # tolerated « future » for dates typed from another clock
MAX_DESCRIPTION = 1000
MAX_LENGTHS = {  # other free-text columns: a longer value is a mistake (paste, wrong column)
    "id": 100,
    "service": 120,
    "agent": 60,
    "precision": 100,
    "commune": 150,
    "lieu": 200,
    "auteurs": 500,
    "vehicule": 200,
    "cible_communes": 5000,
    "cible_activites": 2000,
}
MAX_TARGET_COMMUNES = 160  # more names than Lozère has communes (152 + former ones listed once)
MAX_TARGET_ACTIVITIES = 50

_TRUTHY = frozenset(
    {"oui", "o", "vrai", "x", "1", "true", "yes", "y", "actif", "active", "ok"}
)
_TICKS = frozenset("✓✔☑✅")
_ZONE_WORDS = {
    "": "toutes", "toutes": "toutes", "toute": "toutes", "tous": "toutes", "tout": "toutes",
    "toutes zones": "toutes", "toutes les zones": "toutes", "departement": "toutes",
    "tout le departement": "toutes", "police": "police", "zone police": "police",
    "gendarmerie": "gendarmerie", "zone gendarmerie": "gendarmerie",
}
_EXPLICIT_OFFSET = re.compile(r"(?:[zZ]|[+-]\d{2}:?\d{2})$")
_HAS_TIME = re.compile(r"\d\s*[:hH]|T\d")
_SERIAL_WITH_TIME = re.compile(r"^\d+[.,]\d*[1-9]")
_ALLOWED_TYPES = french_list(list(ALERT_TYPES))
_ALLOWED_PRECISIONS = french_list(list(ESCROQUERIE_PRECISIONS))


def normalise_identifiant(text: str | None) -> str:
    """Key for officer identifiants: no case, no spaces (« g 1234 » is « G1234 »)."""
    value = unicodedata.normalize("NFKC", clean(text)[:200])
    return "".join(value.split()).casefold()


def is_truthy(text: str | None) -> bool:
    """The `actif` column: oui, OUI, vrai, x, 1, true, ✓ … count as yes."""
    value = clean(text)
    return value in _TICKS or fold(value) in _TRUTHY


def active_officers(habilitations_rows: Iterable[Mapping[str, object]]) -> dict[str, Officer]:
    """Active officers of the `Habilitations` tab, keyed by `normalise_identifiant`.

    Pass the result to `check_alert(officers=…)`; its `service` fills an alert whose `service`
    cell was left empty.
    """
    officers: dict[str, Officer] = {}
    for row in habilitations_rows:
        key = normalise_identifiant(clean(row.get("identifiant")))
        if key and is_truthy(clean(row.get("actif"))):
            officers.setdefault(
                key,
                Officer(
                    clean(row.get("identifiant"))[:60],
                    clean(row.get("nom"))[:120],
                    clean(row.get("service"))[:120],
                ),
            )
    return officers


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
        return _Checker(row, officers, _aware(now), stale_hours).run()
    except Exception as exc:  # a last resort: a row must never stop the sender
        return Verdict(
            VERDICT_REFUSED,
            [
                "Vérification impossible (erreur interne "
                f"{type(exc).__name__}) : vérifier la ligne et prévenir la CMA."
            ],
        )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=PARIS)


class _Checker:
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

    # -- vocabulary ---------------------------------------------------------------------------

    def check_type(self, typed: str) -> str | None:
        if not typed:
            self.motifs.append(f"Champ « type » vide : choisir {_ALLOWED_TYPES}.")
            return None
        found = normalise_type(typed)
        if found is None:
            self.motifs.append(f"Type {quote(typed, 40)} inconnu : choisir {_ALLOWED_TYPES}.")
        return found

    def check_precision(self, alert_type: str | None, typed: str) -> str:
        if alert_type != "escroquerie":
            return typed  # free text for other types, shown in the message when given
        if not typed:
            self.motifs.append(
                "Précision manquante pour une escroquerie : remplir « precision » avec "
                f"{_ALLOWED_PRECISIONS}."
            )
            return ""
        found = normalise_precision(typed)
        if found is None:
            self.motifs.append(
                f"Précision {quote(typed, 40)} inconnue pour une escroquerie : choisir "
                f"{_ALLOWED_PRECISIONS}."
            )
            return ""
        return found

    # -- dates --------------------------------------------------------------------------------

    def date(self, column: str, *, need_time: bool) -> datetime | None:
        value = self.row.get(column)
        raw = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        text = clean(value)
        self.raw_dates[column] = text
        if not text:
            return None
        if len(text) > 60:
            self.motifs.append(
                f"Colonne « {column} » : date illisible {quote(text, 30)} "
                "(attendu par exemple 29/11/2026 14:05)."
            )
            return None
        try:
            moment = parse_datetime(raw if raw is not None else text)
        except (DateError, ValueError, OverflowError) as exc:
            self.motifs.append(f"Colonne « {column} » : {str(exc)[:200]}.")
            return None
        if moment is None:
            return None
        if not 2000 <= moment.year <= 2099:
            self.motifs.append(
                f"Colonne « {column} » : date invraisemblable {quote(text, 30)} "
                "(attendu par exemple 29/11/2026 14:05)."
            )
            return None
        if need_time and not (_HAS_TIME.search(text) or _SERIAL_WITH_TIME.match(text)):
            self.motifs.append(
                f"Colonne « {column} » : heure manquante dans {quote(text, 30)} ; la règle du "
                "délai d'une heure exige l'heure (ex. 29/11/2026 14:05)."
            )
            return None
        if elapsed(self.now, moment) > CLOCK_SKEW:
            self.motifs.append(
                f"Date dans le futur : « {column} » vaut le {day_and_hour(moment)} alors qu'il "
                f"est {hour(self.now)} le {day(self.now)} ; corriger la date ou l'heure."
            )
            return None
        return moment

    def check_delay(self, faits: datetime, signale: datetime) -> None:
        delay = elapsed(faits, signale)
        if timedelta(0) <= delay < MAX_DELAY:
            return
        if delay < timedelta(0):
            motif = (
                f"Dates incohérentes : le signalement ({day_and_hour(signale)}) est antérieur aux "
                f"faits ({day_and_hour(faits)}) ; vérifier « faits_le » et « signale_le »."
            )
        else:
            when = hour(signale) if day(signale) == day(faits) else day_and_hour(signale)
            article = "à" if day(signale) == day(faits) else "le"
            motif = (
                f"Délai dépassé : les faits du {day_and_hour(faits)} ont été signalés {article} "
                f"{when}, soit {duration(delay)} après (la règle impose moins d'une heure)."
            )
        self.motifs.append(motif + self.fold_hint(faits, signale))

    def fold_hint(self, faits: datetime, signale: datetime) -> str:
        """When an autumn repeated hour could make the delay valid, say how to remove the doubt."""
        hints = []
        for column, moment in (("faits_le", faits), ("signale_le", signale)):
            if not _ambiguous(moment, self.raw_dates.get(column, "")):
                continue
            other = _other_fold(moment)
            pair = (other, signale) if column == "faits_le" else (faits, other)
            if timedelta(0) <= elapsed(*pair) < MAX_DELAY:
                wall = moment.astimezone(PARIS).replace(tzinfo=None)
                hints.append(
                    f" Attention : le {day(moment)}, l'heure {hour(moment)} existe deux fois "
                    "(retour à l'heure d'hiver) et a été lue comme la première ; si « "
                    f"{column} » désigne la seconde, l'écrire avec son décalage : "
                    f"{wall:%Y-%m-%dT%H:%M}+01:00."
                )
        return "".join(hints)

    def check_staleness(self, reference: datetime | None, *, from_saisie: bool) -> None:
        if reference is None:
            return
        age = elapsed(reference, self.now)
        if age <= timedelta(hours=self.stale_hours):
            return
        what = "saisie" if from_saisie else "signalée"
        self.motifs.append(
            f"Alerte trop ancienne : {what} le {day_and_hour(reference)}, il y a "
            f"{duration(age)} (au-delà de {self.stale_hours:g} h, elle n'est plus diffusée). "
            "Si elle est toujours d'actualité, créer une nouvelle ligne avec des informations "
            "à jour."
        )

    # -- people and places --------------------------------------------------------------------

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

    def check_commune(self, typed: str) -> Commune | None:
        if not typed:
            return None
        found = match_commune(typed) if len(typed) <= MAX_LENGTHS["commune"] else None
        if found is None:
            self.motifs.append(
                f"Commune {quote(typed, 40)} inconnue en Lozère : vérifier l'orthographe "
                "(ex. Saint-Chély-d'Apcher) ou décrire l'endroit dans « lieu »."
            )
        return found

    def check_zone(self) -> str | None:
        typed = self.text("cible_zone")
        zone = _ZONE_WORDS.get(fold(typed[:40])) if len(typed) <= 40 else None
        if zone is None:
            self.motifs.append(
                f"Cible {quote(typed, 30)} inconnue dans « cible_zone » : laisser vide ou "
                "choisir toutes, police ou gendarmerie."
            )
        return zone

    def check_target_communes(self, typed: str, zone: str | None) -> list[Commune]:
        if not typed or len(typed) > MAX_LENGTHS["cible_communes"]:
            return []  # too long: reported by check_lengths
        names = split_names(typed)
        if len(names) > MAX_TARGET_COMMUNES:
            self.motifs.append(
                f"« cible_communes » liste {len(names)} communes : en cibler "
                f"{MAX_TARGET_COMMUNES} au plus, ou laisser vide pour tout le département."
            )
            return []
        found: dict[str, Commune] = {}
        unknown: list[str] = []
        for name in names:
            commune = match_commune(name) if len(name) <= MAX_LENGTHS["commune"] else None
            if commune is None:
                unknown.append(quote(name, 40))
            else:
                found.setdefault(commune.code, commune)
        if unknown:
            shown = unknown[:10] + ([f"et {len(unknown) - 10} autres"] if len(unknown) > 10 else [])
            plural = len(unknown) > 1
            self.motifs.append(
                f"{'Communes ciblées inconnues' if plural else 'Commune ciblée inconnue'} en "
                f"Lozère : {', '.join(shown)} ; corriger « cible_communes » (noms séparés par "
                "des virgules)."
            )
        in_zone = any(c.zone == zone for c in found.values())
        if found and zone in ("police", "gendarmerie") and not in_zone:
            self.motifs.append(
                f"Aucune commune de « cible_communes » n'est en zone {zone} : personne ne "
                "recevrait l'alerte ; corriger « cible_zone » ou « cible_communes »."
            )
        return list(found.values())

    def check_activities(self, typed: str) -> list[str]:
        if not typed or len(typed) > MAX_LENGTHS["cible_activites"]:
            return []
        activities = split_activities(typed)
        if len(activities) > MAX_TARGET_ACTIVITIES:
            self.motifs.append(
                f"« cible_activites » liste {len(activities)} activités : en cibler "
                f"{MAX_TARGET_ACTIVITIES} au plus, ou laisser vide pour toutes."
            )
            return []
        return activities

    def check_required(self, alert_type: str | None, values: Mapping[str, str]) -> None:
        prevention = alert_type == PREVENTION
        if not values["description"]:
            what = "rédiger le message de prévention" if prevention else (
                "décrire les faits en quelques mots"
            )
            self.motifs.append(f"Champ « description » vide : {what}.")
        if alert_type is None or prevention:
            return
        if not self.raw_dates["faits_le"]:
            self.motifs.append(
                "Champ « faits_le » vide : indiquer la date et l'heure des faits "
                "(ex. 29/11/2026 14:05)."
            )
        if not self.raw_dates["signale_le"]:
            self.motifs.append(
                "Champ « signale_le » vide : indiquer quand les faits ont été signalés au 17 "
                "(ex. 29/11/2026 14:20)."
            )
        if not values["commune"] and not values["lieu"]:
            self.motifs.append(
                "Champs « commune » et « lieu » vides : indiquer au moins la commune ou le lieu "
                "des faits."
            )

    def check_lengths(self, values: Mapping[str, str], alert_type: str | None) -> None:
        description = values["description"]
        if len(description) > MAX_DESCRIPTION:
            self.motifs.append(
                f"Champ « description » trop long : {_count(len(description))} caractères "
                f"({_count(MAX_DESCRIPTION)} au maximum) ; résumer les faits."
            )
        for column, limit in MAX_LENGTHS.items():
            if column == "precision" and alert_type == "escroquerie":
                continue  # an unknown precision is already reported
            if len(values[column]) > limit:
                self.motifs.append(
                    f"Champ « {column} » trop long : {_count(len(values[column]))} caractères "
                    f"({_count(limit)} au maximum)."
                )


def _count(number: int) -> str:
    """1 000 000 with a no-break space between thousands, as French writes it."""
    return f"{number:,}".replace(",", "\u00a0")


def _ambiguous(moment: datetime, raw: str) -> bool:
    """True when the typed wall-clock time falls in the autumn repeated hour, with no offset."""
    if _EXPLICIT_OFFSET.search(raw):
        return False
    wall = moment.astimezone(PARIS).replace(tzinfo=None)
    return PARIS.utcoffset(wall.replace(fold=0)) != PARIS.utcoffset(wall.replace(fold=1))


def _other_fold(moment: datetime) -> datetime:
    wall = moment.astimezone(PARIS)
    return wall.replace(fold=1 - wall.fold)
