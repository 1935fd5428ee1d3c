"""Reads of the WhatsApp Business account through the Graph API (no message is sent).

`GET {WHATSAPP_API_URL}/{phone-number-id}?fields=…` gives the phone number's quality rating and
the portfolio's messaging limit (`whatsapp_business_manager_messaging_limit`, a `TIER_*`
string; docs/architecture.md, « Diagnostic »). Every field is optional on the wire.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

from sender.channels.base import ChannelError

PHONE_FIELDS = (
    "display_phone_number,verified_name,quality_rating,code_verification_status,name_status,"
    "throughput,whatsapp_business_manager_messaging_limit,platform_type,status"
)
_TIER = re.compile(r"^TIER_(\d+)(K?)$")


def tier_limit(tier: object) -> int | None:
    """Unique users per 24 h of a messaging-limit tier (`TIER_2K` → 2000, `TIER_250` → 250);
    None when unlimited, not set or unknown."""
    match = _TIER.match(str(tier or "").strip().upper())
    if match is None:
        return None
    return int(match.group(1)) * (1000 if match.group(2) else 1)


def phone_number_url(api: str, phone_id: str) -> str:
    return f"{api.rstrip('/')}/{phone_id}?fields={PHONE_FIELDS}"


def messaging_limit(phone: dict[str, Any]) -> str | None:
    """The tier of a phone-number answer (the deprecated field as a last resort)."""
    value = phone.get("whatsapp_business_manager_messaging_limit") or phone.get(
        "messaging_limit_tier")
    return str(value) if value else None


def read_phone_number(api: str, phone_id: str, token: str, timeout: float) -> dict[str, Any]:
    """The phone number's fields; `ChannelError` (French) when Meta does not answer them."""
    url = phone_number_url(api, phone_id)
    if not url.startswith(("https://", "http://")):
        raise ChannelError(f"WHATSAPP_API_URL invalide : {api[:80]}")
    request = urllib.request.Request(  # noqa: S310  # nosec B310 - http(s) only, checked above
        url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310 - http(s) only, checked above
            body = json.loads(response.read(1_000_000).decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise ChannelError(f"Meta refuse la lecture du numéro WhatsApp (HTTP {exc.code}).",
                           code=str(exc.code)) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ChannelError(f"API WhatsApp injoignable ({type(exc).__name__}).") from exc
    if not isinstance(body, dict):
        raise ChannelError("Réponse illisible de l'API WhatsApp.")
    return body
