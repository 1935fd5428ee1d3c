"""The read side of the WhatsApp emulator's Graph API: the account the diagnostic looks at.

- `GET /{version}/{phone-number-id}?fields=…`: the phone number (`display_phone_number`,
  `verified_name`, `quality_rating`, `code_verification_status`, `name_status`, `throughput`,
  `whatsapp_business_manager_messaging_limit`, `platform_type`, `status`); only the fields
  asked for, plus `id`, as the Graph API answers;
- `GET /{version}/{waba-id}/message_templates?fields=…&limit=…&after=…`: the templates, with
  cursor paging (`paging.cursors`, `paging.next` except on the last page);
- `GET /{version}/{waba-id}/subscribed_apps`: `{"data": [{"whatsapp_business_api_data":
  {"id", "link", "name"}}]}`, `{"data": []}` when no app is subscribed.

A wrong token answers error 190 (HTTP 401), an unknown id error 100 with subcode 33.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from support.emulators.http import Reply, Request

if TYPE_CHECKING:
    from support.emulators.whatsapp import Template, WhatsAppEmulator

WABA_ID = "102290129340398"
APP_ID = "670843887433847"
_PARAMETER = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}")


def _phone_defaults() -> dict[str, Any]:
    return {
        "display_phone_number": "+33 6 12 34 56 78",
        "verified_name": "Alerte Message",
        "quality_rating": "GREEN",
        "code_verification_status": "VERIFIED",
        "name_status": "APPROVED",
        "throughput": {"level": "STANDARD"},
        "whatsapp_business_manager_messaging_limit": "TIER_2K",
        "platform_type": "CLOUD_API",
        "status": "CONNECTED",
    }


@dataclass
class GraphAccount:
    """The phone number, business account and app subscription an emulator answers about."""

    emulator: WhatsAppEmulator
    phone_number_id: str
    business_account_id: str = WABA_ID
    phone: dict[str, Any] = field(default_factory=_phone_defaults)
    subscribed: bool = True
    page_size_cap: int = 100
    pages_served: int = 0  # template pages answered

    def get(self, request: Request) -> Reply:
        from support.emulators.whatsapp import graph_error

        split = urlsplit(request.path)
        parts = [p for p in split.path.split("/") if p]
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        if not parts or parts[0] != self.emulator.version:
            return Reply(404, b"<html><body><h1>404 Not Found</h1></body></html>")
        if request.headers.get("Authorization", "") != f"Bearer {self.emulator.token}":
            return graph_error(190)
        rest = parts[1:]
        if rest == [self.phone_number_id]:
            return self._phone(query)
        if rest == [self.business_account_id, "message_templates"]:
            return self._templates(query)
        if rest == [self.business_account_id, "subscribed_apps"]:
            return self._subscribed_apps()
        return graph_error(
            100, subcode=33,
            details=f"Unsupported get request. Object with ID '{rest[0] if rest else ''}' "
            "does not exist, cannot be loaded due to missing permissions, or does not support "
            "this operation.",
        )

    def _phone(self, query: dict[str, str]) -> Reply:
        wanted = [f.strip() for f in query.get("fields", "").split(",") if f.strip()]
        with self.emulator._lock:
            data = {k: v for k, v in self.phone.items() if not wanted or k in wanted}
        data["id"] = self.phone_number_id
        return Reply(200, data)

    def _templates(self, query: dict[str, str]) -> Reply:
        with self.emulator._lock:
            templates = list(self.emulator.templates.values())
        try:
            limit = max(1, min(self.page_size_cap, int(query.get("limit", "25"))))
            start = int(base64.urlsafe_b64decode(query["after"]).decode()) if "after" in query \
                else 0
        except (ValueError, KeyError):
            from support.emulators.whatsapp import graph_error

            return graph_error(100, details="Invalid paging parameter.")
        page = templates[start:start + limit]
        self.pages_served += 1
        body: dict[str, Any] = {"data": [_template_json(t) for t in page]}
        if page:
            cursor = base64.urlsafe_b64encode(str(start + len(page)).encode()).decode()
            before = base64.urlsafe_b64encode(str(start).encode()).decode()
            body["paging"] = {"cursors": {"before": before, "after": cursor}}
            if start + len(page) < len(templates):
                root = self.emulator.base_url
                fields = query.get("fields", "")
                body["paging"]["next"] = (
                    f"{root}/{self.business_account_id}/message_templates?fields={fields}"
                    f"&limit={limit}&after={cursor}"
                )
        return Reply(200, body)

    def _subscribed_apps(self) -> Reply:
        if not self.subscribed:
            return Reply(200, {"data": []})
        return Reply(200, {"data": [{"whatsapp_business_api_data": {
            "id": APP_ID, "link": f"https://www.facebook.com/games/?app_id={APP_ID}",
            "name": "Alerte Message",
        }}]})


def _template_json(template: Template) -> dict[str, Any]:
    body = template.body
    if body is None:
        body = "Alerte\n" + "\n".join(f"{p} : {{{{{p}}}}}" for p in template.parameters)
    named = [{"param_name": name, "example": "exemple"} for name in _PARAMETER.findall(body)]
    body_component: dict[str, Any] = {"type": "BODY", "text": body}
    if named:
        body_component["example"] = {"body_text_named_params": named}
    components: list[dict[str, Any]] = [body_component]
    if template.quick_reply:
        components.append({"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": "Je confirme"}]})
    return {
        "name": template.name,
        "parameter_format": "NAMED",
        "components": components,
        "language": template.language,
        "status": template.status,
        "category": template.category,
        "id": template.id,
    }
