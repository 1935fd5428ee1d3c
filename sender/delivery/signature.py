"""The two checks of Meta's webhook: the subscription handshake and the payload signature."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def handshake(query: Mapping[str, str], verify_token: str | None) -> str | None:
    """The `hub.challenge` to answer when Meta subscribes with our verify token, else None."""
    if not verify_token or query.get("hub.mode") != "subscribe":
        return None
    token = query.get("hub.verify_token", "")
    if not hmac.compare_digest(token.encode("utf-8"), verify_token.encode("utf-8")):
        return None
    challenge = query.get("hub.challenge", "")
    return challenge if challenge and len(challenge) <= 200 else None


def sign(body: bytes, app_secret: str) -> str:
    """The `X-Hub-Signature-256` value of `body` (used by the emulator and the tests too)."""
    digest = hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def valid_signature(body: bytes, header: str | None, app_secret: str | None) -> bool:
    """True when `header` is the HMAC-SHA256 of the raw body with the app secret (compared in
    constant time). Without an app secret nothing is valid."""
    if not app_secret or not header:
        return False
    return hmac.compare_digest(header.strip().encode("ascii", "replace"),
                               sign(body, app_secret).encode("ascii"))
