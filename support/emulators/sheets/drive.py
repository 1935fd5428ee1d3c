"""Drive API v3 `permissions.list` on a spreadsheet, as gspread's `list_permissions` calls it:
`GET https://www.googleapis.com/drive/v3/files/{id}/permissions?supportsAllDrives=True&
fields=nextPageToken,permissions` (then `&pageToken=…` until no `nextPageToken`).

Each permission: `kind`, `id`, `type` (user, group, domain, anyone), `role` (owner, writer,
commenter, reader…), `emailAddress`, `displayName`, `deleted`, `pendingOwner`. A project
without the Drive API answers 403 `accessNotConfigured`; a caller without access 404.
"""

from __future__ import annotations

from typing import Any

from support.emulators.sheets.errors import ApiError
from support.emulators.sheets.protected import SERVICE_ACCOUNT
from support.emulators.sheets.routes import param
from support.emulators.sheets.state import SpreadsheetState

PAGE_SIZE = 100


def _user(email: str, role: str, number: int) -> dict[str, Any]:
    return {"kind": "drive#permission", "id": f"{10**19 + number}", "type": "user",
            "role": role, "emailAddress": email, "displayName": email, "deleted": False,
            "pendingOwner": False}


def default_permissions(state: SpreadsheetState) -> list[dict[str, Any]]:
    return [_user(state.owner, "owner", 1), _user(SERVICE_ACCOUNT, "writer", 2)]


def user_permission(email: str, role: str) -> dict[str, Any]:
    """One user's permission, as Drive lists it."""
    return _user(email, role, abs(hash(email)) % 10**6)


def drive_permissions(state: SpreadsheetState | None, query: dict[str, list[str]]
                      ) -> dict[str, Any]:
    if state is not None and not state.drive_enabled:
        raise ApiError(
            403, "Google Drive API has not been used in project 123456789 before or it is "
            "disabled. Enable it by visiting https://console.developers.google.com/apis/api/"
            "drive.googleapis.com/overview?project=123456789 then retry.",
        )
    if state is None or not state.allowed:
        raise ApiError(404, "File not found: .")
    permissions = state.permissions if state.permissions is not None \
        else default_permissions(state)
    try:
        start = int(param(query, "pageToken", "0"))
    except ValueError:
        raise ApiError(400, "Invalid Value") from None
    page = permissions[start:start + PAGE_SIZE]
    answer: dict[str, Any] = {"permissions": page}
    if start + PAGE_SIZE < len(permissions):
        answer["nextPageToken"] = str(start + PAGE_SIZE)
    return answer
