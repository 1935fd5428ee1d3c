"""Retention periods, applied once a day by `surveiller` and on demand by `purger`.

- unsubscribed members: `Settings.retention.unsubscribed_days` after the unsubscription (the
  latest applied request of `Desinscriptions`, or else the day the purge first saw the number
  unsubscribed), every row of the number leaves `Inscriptions` and `Desinscriptions`; only a
  keyed digest of the number stays in the suppression list (`journal/privacy.py`);
- requests never confirmed (sign-ups and unsubscription requests from the form, and requests
  about a number that is not registered): `requests_days` after the end of their validity;
- the send journal: per-recipient rows older than `traces_months` lose the number, incoming
  messages older than that are deleted; per-alert counts stay;
- the phone memo keeps only the texts still typed in the register; the local outbox keeps only
  the messages of the last `traces_months`.

`plan_register` is pure (rows in, rows to delete out); `purge` does the I/O.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sender import schema
from sender.channels.outbox import outbox_lines, remove_outbox_lines
from sender.cleaning.inscriptions import PhoneParser, awaits_confirmation
from sender.cleaning.phonecache import PhoneCache
from sender.cleaning.suppressions import SuppressionList
from sender.config import Retention, Settings
from sender.consent.requests import expiry
from sender.dates import DateError, parse_datetime
from sender.domain.phones import parse_phone
from sender.journal.file import JournalFile
from sender.journal.privacy import (
    add_suppressions,
    count_before,
    erase_before,
    first_seen,
    seen_times,
)
from sender.register.base import Register
from sender.tables import Row, Table
from sender.text import mask_phone, plural

_GONE = {schema.DESINSCRIT, schema.DOUBLON, schema.INVALIDE}


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and hour `months` calendar months earlier (the 31st becomes the last day of
    a shorter month)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _moment(text: str) -> datetime | None:
    try:
        return parse_datetime(text)
    except DateError:
        return None


def _status(row: Row) -> str:
    return row.get("statut").strip().lower()


def unsubscribed_numbers(inscriptions: Table, phone: PhoneParser = parse_phone) -> set[str]:
    """Numbers whose every row is unsubscribed, a duplicate or invalid, one at least
    unsubscribed: nobody is a member with them any more."""
    statuses: dict[str, set[str]] = {}
    for row in inscriptions.rows:
        numero = phone(row.get("telephone")).numero
        if numero:
            statuses.setdefault(numero, set()).add(_status(row))
    return {n for n, found in statuses.items() if schema.DESINSCRIT in found and found <= _GONE}


@dataclass
class RegisterPlan:
    """The rows to delete from the register and the numbers to put in the suppression list."""

    inscriptions: list[int] = field(default_factory=list)  # row keys
    desinscriptions: list[int] = field(default_factory=list)
    erased: list[str] = field(default_factory=list)  # E.164 numbers of unsubscribed members
    requests: int = 0  # unconfirmed sign-ups among `inscriptions`
    unsubscription_requests: int = 0  # unconfirmed or pointless requests among `desinscriptions`


def _unsubscribed_since(
    desinscriptions: Table, phone: PhoneParser, seen: Mapping[str, datetime]
) -> dict[str, datetime]:
    """When each unsubscribed number (keys of `seen`) was unsubscribed: its latest applied
    request, but never before the purge first saw it so (a person may have marked the row
    `desinscrit` long after an old request)."""
    since = dict(seen)
    for row in desinscriptions.rows:
        numero = phone(row.get("telephone")).numero
        if numero not in since or not row.get("traite").strip().startswith("oui"):
            continue
        when = _moment(row.get("confirme_le")) or _moment(row.get("horodatage"))
        if when is not None and when > since[numero]:
            since[numero] = when
    return since


def plan_register(
    inscriptions: Table,
    desinscriptions: Table,
    *,
    now: datetime,
    retention: Retention,
    confirmation_days: float,
    seen: Mapping[str, datetime],
    phone: PhoneParser = parse_phone,
) -> RegisterPlan:
    """The rows whose retention period is over. `seen`: each number of
    `unsubscribed_numbers`, with when the purge first saw it unsubscribed."""
    plan = RegisterPlan()
    since = _unsubscribed_since(desinscriptions, phone, seen)
    limit = timedelta(days=retention.unsubscribed_days)
    due = {n for n, when in since.items() if now - when > limit}
    plan.erased = sorted(due)
    keep = timedelta(days=retention.requests_days)

    def expired_long_ago(row: Row) -> bool:
        ends = expiry(_moment(row.get("horodatage")), confirmation_days)
        return ends is not None and now - ends > keep

    registered: set[str] = set()
    for row in inscriptions.rows:
        numero = phone(row.get("telephone")).numero
        if numero in due:
            plan.inscriptions.append(row.key)
        elif awaits_confirmation(row):
            if expired_long_ago(row):
                plan.inscriptions.append(row.key)
                plan.requests += 1
        elif numero:
            registered.add(numero)
    for row in desinscriptions.rows:
        numero = phone(row.get("telephone")).numero
        if numero in due:
            plan.desinscriptions.append(row.key)
            continue
        applied = row.get("traite").strip().startswith("oui")
        if applied and numero in registered:
            continue  # a request applied to a member: erased with the member
        if expired_long_ago(row):
            plan.desinscriptions.append(row.key)
            plan.unsubscription_requests += 1
    return plan


@dataclass
class PurgeReport:
    """What a purge erased (or, in a simulation, would erase)."""

    simulation: bool
    erased_numbers: list[str] = field(default_factory=list)  # masked
    inscriptions: int = 0
    desinscriptions: int = 0
    requests: int = 0
    unsubscription_requests: int = 0
    traces: int = 0
    incoming: int = 0
    memo: int = 0
    outbox: int = 0

    def lines(self) -> list[str]:
        verb = "serait effacé" if self.simulation else "effacé"
        count = self.inscriptions + self.desinscriptions + self.traces + self.incoming
        if not count and not self.memo and not self.outbox:
            return ["Rien à effacer : aucune durée de conservation n'est dépassée."]
        lines = [
            f"Membres désinscrits ({'seraient effacés' if self.simulation else 'effacés'}) : "
            f"{len(self.erased_numbers)}"
            + (f" ({', '.join(self.erased_numbers)})" if self.erased_numbers else ""),
            f"Lignes d'Inscriptions : {self.inscriptions}, dont "
            f"{plural(self.requests, 'demande non confirmée', 'demandes non confirmées')}",
            f"Lignes de Desinscriptions : {self.desinscriptions}, dont "
            f"{self.unsubscription_requests} non confirmée(s) ou sans effet",
            f"Traces d'envoi rendues anonymes (numéro {verb}) : {self.traces}",
            f"Messages reçus (« STOP », confirmations) : {self.incoming}",
            f"Entrées du mémo des numéros : {self.memo}",
            f"Messages du fichier de sortie local : {self.outbox}",
        ]
        return lines


def _register_plan(
    tables: Mapping[str, Table],
    settings: Settings,
    now: datetime,
    phone: PhoneParser,
    digest: Callable[[str], str],
    journal: JournalFile,
    simulation: bool,
) -> RegisterPlan:
    """`plan_register`, with when each unsubscribed number was first seen so (recorded in the
    journal file, unless `simulation`)."""
    gone = unsubscribed_numbers(tables[schema.INSCRIPTIONS], phone)
    digests = {digest(n): n for n in gone}
    stamp = now.timestamp()
    if simulation:
        times = seen_times(journal)
        seen_at = {n: times.get(d, stamp) for d, n in digests.items()}
    else:
        seen_at = {digests[d]: t for d, t in first_seen(journal, digests, stamp).items()}
    return plan_register(
        tables[schema.INSCRIPTIONS], tables[schema.DESINSCRIPTIONS], now=now,
        retention=settings.retention, confirmation_days=settings.confirmation_days,
        seen={n: datetime.fromtimestamp(t, now.tzinfo) for n, t in seen_at.items()},
        phone=phone,
    )


def purge(
    register: Register,
    settings: Settings,
    *,
    now: datetime,
    simulation: bool = False,
    phone: PhoneParser = parse_phone,
    journal: JournalFile | None = None,
) -> PurgeReport:
    """Apply every retention period (or only count, `simulation`). One read of the register;
    the phone memo is `phone` when it is one (so the running sender forgets too)."""
    journal = journal if journal is not None else JournalFile(settings.journal)
    suppression = SuppressionList.load(settings, journal)
    tables = register.read([schema.INSCRIPTIONS, schema.DESINSCRIPTIONS])
    plan = _register_plan(tables, settings, now, phone, suppression.digest, journal, simulation)
    report = PurgeReport(simulation, [mask_phone(n) for n in plan.erased],
                         requests=plan.requests,
                         unsubscription_requests=plan.unsubscription_requests)
    cutoff = months_before(now, settings.retention.traces_months).timestamp()
    deleted = {schema.INSCRIPTIONS: set(plan.inscriptions),
               schema.DESINSCRIPTIONS: set(plan.desinscriptions)}
    typed = {row.get("telephone") for tab, table in tables.items() for row in table.rows
             if row.key not in deleted[tab]}
    memo = phone if isinstance(phone, PhoneCache) else PhoneCache(settings.phone_cache_path)
    stale = {raw for raw, _numero in memo.entries() if raw not in typed}

    def old(record: Mapping[str, object]) -> bool:
        return _older(record.get("time"), cutoff)

    if simulation:
        report.inscriptions, report.desinscriptions = (
            len(plan.inscriptions), len(plan.desinscriptions))
        report.traces, report.incoming = count_before(journal, cutoff)
        report.memo = len(stale)
        report.outbox = sum(1 for record in outbox_lines(settings.outbox) if old(record))
        return report
    # The suppression entry first: a crash after it leaves rows the next purge erases.
    add_suppressions(journal, [suppression.digest(n) for n in plan.erased], now.timestamp())
    report.inscriptions = register.delete_rows(schema.INSCRIPTIONS, plan.inscriptions)
    report.desinscriptions = register.delete_rows(schema.DESINSCRIPTIONS, plan.desinscriptions)
    report.traces, report.incoming = erase_before(journal, cutoff)
    report.memo = memo.forget(stale)  # entries for texts no longer typed in the register
    report.outbox = remove_outbox_lines(settings.outbox, old)
    checkpoint(register)
    return report


def _older(text: object, cutoff: float) -> bool:
    try:
        return datetime.fromisoformat(str(text)).timestamp() < cutoff
    except ValueError:
        return False


def checkpoint(register: Register) -> None:
    """Empty the register's `-wal` file when it has one (a SQLite register)."""
    empty: Callable[[], bool] | None = getattr(register, "checkpoint", None)
    if empty is not None:
        empty()


def describe_settings(retention: Retention) -> str:
    """The periods in force, in French, for the command's first line."""
    return (
        f"durées de conservation : désinscrits {retention.unsubscribed_days} jours, demandes "
        f"non confirmées {retention.requests_days} jours après leur expiration, traces "
        f"d'envoi {retention.traces_months} mois"
    )

