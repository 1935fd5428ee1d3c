"""Protected ranges as Google keeps and shows them.

Protected ranges come back in Google's wire format, as gspread's recorded exchanges show it
(`tests/cassettes/WorksheetTest.test_add_protected_range_*.json` in gspread's repository) and as
the API reference defines `ProtectedRange`: fields holding their default value are omitted (a
`sheetId` of 0, `warningOnly: false`), `requestingUserCanEdit` is true, and `editors.users` lists
the requested accounts plus the two Google always keeps, the requesting account (here
`SERVICE_ACCOUNT`) and the spreadsheet's owner; the `addProtectedRange` reply shows
`"editors": {}` when no user was requested.
"""

from __future__ import annotations

from typing import Any

from support.emulators.sheets.errors import ApiError

SERVICE_ACCOUNT = "alerte-message@cma-lozere-48.iam.gserviceaccount.com"


def check_editors(number: int, name: str, protected: dict[str, Any]) -> None:
    if protected.get("warningOnly") and (protected.get("editors") or {}).get("users"):
        raise ApiError(400, f"Invalid requests[{number}].{name}: Editors are not supported with "
                            "warningOnly protection.")


def kept_editors(editors: Any, owner: str) -> dict[str, Any]:
    """Requested editors plus the two accounts Google always keeps (requester, owner)."""
    editors = dict(editors or {})
    users = [str(u) for u in editors.get("users") or []]
    for account in (SERVICE_ACCOUNT, owner):
        if account not in users:
            users.append(account)
    editors["users"] = users
    return editors


def wire_protected_range(item: dict[str, Any], owner: str) -> dict[str, Any]:
    """A stored protected range as the API returns it (default values omitted)."""
    out: dict[str, Any] = {"protectedRangeId": item["protectedRangeId"]}
    grid = {k: v for k, v in (item.get("range") or {}).items() if v not in (0, None)}
    if "namedRangeId" in item:
        out["namedRangeId"] = item["namedRangeId"]
    else:
        out["range"] = grid
    if item.get("description"):
        out["description"] = item["description"]
    if item.get("warningOnly"):
        out["warningOnly"] = True
    out["requestingUserCanEdit"] = True
    editors = kept_editors(item.get("editors"), owner)
    wire: dict[str, Any] = {"users": editors["users"]}
    if editors.get("groups"):
        wire["groups"] = list(editors["groups"])
    if editors.get("domainUsersCanEdit"):
        wire["domainUsersCanEdit"] = True
    out["editors"] = wire
    return out
