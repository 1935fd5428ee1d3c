"""The edit protections `initialise` puts on `Alertes` and `Habilitations` (see
`register.protection`): `addProtectedRange` for the whole tab with the wanted editors, or
`updateProtectedRange` when the editors differ; then, once Google has answered with the accounts
it always keeps, the description that records them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sender import schema
from sender.register.base import InitReport
from sender.register.protection import (
    Protection,
    description,
    is_email,
    officer_emails,
    ours,
    parse,
)
from sender.register.sheets.rows import header_positions, table_of
from sender.text import is_truthy, plural


def officers_of(values: list[list[Any]]) -> set[str]:
    """The active officers' Google accounts, from the `Habilitations` tab's values."""
    table = table_of(schema.HABILITATIONS, header_positions(values[0] if values else []), values)
    return officer_emails(row.values for row in table.rows)


def wanted_editors(officers: set[str]) -> dict[str, list[str]]:
    """Editors asked for each protected tab (Google adds the owner and the service account)."""
    return {schema.ALERTES: sorted(officers), schema.HABILITATIONS: []}


def _label(tab: str, editors: list[str]) -> str:
    if tab == schema.ALERTES:
        who = plural(len(editors), "compte Google d'agent", "comptes Google d'agents")
        return f"{tab} : modification réservée aux agents actifs ({who})"
    return f"{tab} : modification réservée à la CMA"


def protection_requests(
    sheet_ids: Mapping[str, int],
    existing: Mapping[str, list[dict[str, Any]]],
    officers: set[str],
    report: InitReport,
) -> list[dict[str, Any]]:
    """`:batchUpdate` requests that give each protected tab exactly its wanted editors."""
    requests_: list[dict[str, Any]] = []
    for tab, editors in wanted_editors(officers).items():
        if tab not in sheet_ids:
            continue
        current = ours(parse(p) for p in existing.get(tab, []))
        body = {"users": editors, "groups": [], "domainUsersCanEdit": False}
        if current is None:
            requests_.append({"addProtectedRange": {"protectedRange": {
                "range": {"sheetId": sheet_ids[tab]},
                "description": description(tab),
                "warningOnly": False,
                "editors": body,
            }}})
            report.formatting.append(_label(tab, editors))
        elif _differs(current, editors):
            requests_.append({"updateProtectedRange": {
                "protectedRange": {"protectedRangeId": current.range_id, "editors": body},
                "fields": "editors",
            }})
            report.formatting.append(_label(tab, editors) + " (liste mise à jour)")
    return requests_


def _differs(current: Protection, editors: list[str]) -> bool:
    kept = set(current.users) - set(current.google_accounts)
    return kept != set(editors) or bool(current.groups) or current.domain_can_edit


def description_requests(
    existing: Mapping[str, list[dict[str, Any]]], officers: set[str]
) -> list[dict[str, Any]]:
    """After the protections are set: record in each description the accounts Google added by
    itself (those not asked for)."""
    requests_: list[dict[str, Any]] = []
    for tab, editors in wanted_editors(officers).items():
        current = ours(parse(p) for p in existing.get(tab, []))
        if current is None or current.range_id is None:
            continue
        text = description(tab, set(current.users) - set(editors))
        if text != current.description:
            requests_.append({"updateProtectedRange": {
                "protectedRange": {"protectedRangeId": current.range_id, "description": text},
                "fields": "description",
            }})
    return requests_


def officers_without_account(values: list[list[Any]]) -> list[str]:
    """Identifiers of active officers with no usable `email`: they cannot fill `Alertes`."""
    table = table_of(schema.HABILITATIONS, header_positions(values[0] if values else []), values)
    return [
        row.get("identifiant") for row in table.rows
        if row.get("identifiant").strip() and is_truthy(row.get("actif"))
        and not is_email(row.get("email"))
    ]


def sets_protection(requests_: list[dict[str, Any]]) -> bool:
    """True when the batch adds or changes an edit protection (not a warning)."""
    for request in requests_:
        if "updateProtectedRange" in request:
            return True
        added = request.get("addProtectedRange", {}).get("protectedRange", {})
        if added and not added.get("warningOnly", False):
            return True
    return False
