"""A local emulator of Brevo's transactional SMS API (`POST /v3/transactionalSMS/send`).

Request: header `api-key`, JSON body `sender` (≤ 11 letters/digits, or ≤ 15 digits),
`recipient` (international number, digits), `content`, optional `type`
(`transactional`/`marketing`), `tag`, `webUrl`, `unicodeEnabled`, `organisationPrefix`.
Answer 201 with `messageId` (plus the older endpoint's `reference`, `smsCount`, `usedCredits`,
`remainingCredits`); errors as `{"code": "...", "message": "..."}` with 400/401/402/429/5xx.
The deprecated `/v3/transactionalSMS/sms` path is accepted as well.

    with SmsGatewayEmulator(api_key="k", credits=100) as gw:
        channel = SmsChannel(gw.api_url, "k", "AlerteMsg")
"""

from __future__ import annotations

import itertools
import json
import re
import secrets
from collections import Counter
from collections.abc import Iterable
from typing import Any, NamedTuple

from support.emulators.http import HttpEmulator, Reply, Request

SEND_PATHS = ("/v3/transactionalSMS/send", "/v3/transactionalSMS/sms")
_RECIPIENT = re.compile(r"^\d{8,15}$")
_SENDER_ALNUM = re.compile(r"^[A-Za-z0-9 ]{1,11}$")
_SENDER_DIGITS = re.compile(r"^\d{1,15}$")
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà^{}\\[~]|€\f"
)


class AcceptedSms(NamedTuple):
    numero: str
    sender: str
    content: str
    message_id: int
    sms_count: int
    unicode: bool


def brevo_error(status: int, code: str, message: str, headers: dict[str, str] | None = None
                ) -> Reply:
    return Reply(status, {"code": code, "message": message}, headers or {})


def _parts(content: str, unicode: bool) -> int:
    """A rough count of billed parts, independent from the sender's own computation."""
    if not unicode and all(ch in _GSM7 for ch in content):
        single, multi, units = 160, 153, len(content) + sum(ch in "^{}\\[~]|€\f" for ch in content)
    else:
        single, multi, units = 70, 67, len(content.encode("utf-16-le")) // 2
    return 1 if units <= single else -(-units // multi)


class SmsGatewayEmulator(HttpEmulator):
    """Emulates Brevo's transactional SMS endpoint, with credits, invalid numbers and faults."""

    def __init__(
        self,
        *,
        api_key: str = "test-sms-key",
        credits: float | None = None,
        credit_per_part: float = 1.0,
        latency: float = 0.0,
        rate_limit: float | None = None,
        rate_burst: float | None = None,
    ) -> None:
        self.api_key = api_key
        self.credits = credits
        self.credit_per_part = credit_per_part
        self._invalid: set[str] = set()
        self._ids = itertools.count(1511882900176220)
        super().__init__(latency=latency, rate_limit=rate_limit, rate_burst=rate_burst)

    @property
    def api_url(self) -> str:
        return f"{self.root_url}{SEND_PATHS[0]}"

    # -- configuration ----------------------------------------------------------------------

    def invalid_numbers(self, *numbers: str) -> None:
        """These recipients are refused with 400 invalid_parameter."""
        with self._lock:
            self._invalid.update(n.lstrip("+") for n in numbers)

    def fail_next(self, n: int = 1, *, http_status: int = 500, code: str | None = None,
                  message: str | None = None) -> None:
        """The next `n` requests fail with this status (and Brevo error code)."""
        if http_status == 429:
            reply = self._rate_limit_reply()
        elif http_status >= 500 and code is None:
            reply = self._server_error(http_status)
        else:
            default = {400: "invalid_parameter", 401: "unauthorized", 402: "not_enough_credits",
                       403: "permission_denied"}.get(http_status, "bad_request")
            reply = brevo_error(http_status, code or default, message or "Scripted failure")
        self._script("reply", n, reply)

    # -- records ----------------------------------------------------------------------------

    def _reset_records(self) -> None:
        self.accepted: list[AcceptedSms] = []
        self._per_recipient: Counter[str] = Counter()

    def accepted_count(self, numero: str) -> int:
        with self._lock:
            return self._per_recipient[numero.lstrip("+")]

    # -- provider specifics -----------------------------------------------------------------

    def _server_error(self, status: int) -> Reply:
        if status == 502:
            return Reply(502, b"<html><body>502 Bad Gateway</body></html>")
        return brevo_error(status, "internal_error", "Internal server error, retry later")

    def _rate_limit_reply(self) -> Reply:
        return brevo_error(
            429, "too_many_requests", "Too many requests",
            {"x-sib-ratelimit-limit": str(int(self.rate_limit or 10)),
             "x-sib-ratelimit-remaining": "0", "x-sib-ratelimit-reset": "1"},
        )

    def handle(self, request: Request) -> Reply:
        if request.method != "POST" or request.path.split("?")[0] not in SEND_PATHS:
            return brevo_error(404, "document_not_found", "Endpoint not found")
        key = request.headers.get("api-key")
        if not key:
            return brevo_error(401, "unauthorized", "API Key is not enabled")
        if key != self.api_key:
            return brevo_error(401, "unauthorized", "Key not found")
        if not self.check_rate():
            return self._rate_limit_reply()
        try:
            body = request.json()
        except (UnicodeDecodeError, json.JSONDecodeError):
            return brevo_error(400, "bad_request", "Input must be a valid JSON object")
        if not isinstance(body, dict):
            return brevo_error(400, "bad_request", "Input must be a valid JSON object")
        return self._validate_and_accept(body)

    def _validate_and_accept(self, body: dict[str, Any]) -> Reply:
        for name in ("sender", "recipient", "content"):
            if not isinstance(body.get(name), str) or not body[name]:
                return brevo_error(400, "missing_parameter", f"{name} is missing")
        sender, numero, content = body["sender"], body["recipient"], body["content"]
        if not (_SENDER_ALNUM.match(sender) or _SENDER_DIGITS.match(sender)):
            return brevo_error(400, "invalid_parameter", "Invalid sender name")
        if body.get("type", "transactional") not in ("transactional", "marketing"):
            return brevo_error(400, "invalid_parameter", "type is not valid")
        if not _RECIPIENT.match(numero):
            return brevo_error(400, "invalid_parameter", "Invalid recipient phone number")
        unicode = bool(body.get("unicodeEnabled", False))
        parts = _parts(content, unicode)
        with self._lock:
            if numero in self._invalid:
                return brevo_error(400, "invalid_parameter", "Invalid recipient phone number")
            cost = parts * self.credit_per_part
            if self.credits is not None and self.credits < cost:
                return brevo_error(402, "not_enough_credits", "Not enough credits")
            if self.credits is not None:
                self.credits -= cost
            message_id = next(self._ids)
            self.accepted.append(
                AcceptedSms(numero, sender, content, message_id, parts, unicode)
            )
            self._per_recipient[numero] += 1
            remaining = self.credits
        return Reply(201, {
            "messageId": message_id,
            "reference": secrets.token_hex(10),
            "smsCount": parts,
            "usedCredits": cost,
            "remainingCredits": remaining if remaining is not None else 1000.0,
        })

    def recipients(self) -> Iterable[str]:
        with self._lock:
            return list(self._per_recipient)
