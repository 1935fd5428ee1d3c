"""Signed WhatsApp webhooks, posted asynchronously by the emulator like Meta does.

`WebhookPoster` keeps a queue of payloads due at given times and posts each one, signed with
`X-Hub-Signature-256` (HMAC-SHA256 of the raw body with the app secret), from a few worker
threads. A payload not answered `200` is posted again a little later (Meta retries for days;
here `max_attempts` times). The payload builders follow Meta's documented shapes (see
docs/architecture.md, "WhatsApp webhooks").
"""

from __future__ import annotations

import hashlib
import heapq
import hmac
import http.client
import itertools
import json
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

WABA_ID = "102290129340398"
DISPLAY_NUMBER = "33465000000"


def sign(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def envelope(field: str, value: dict[str, Any], phone_number_id: str) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": DISPLAY_NUMBER, "phone_number_id": phone_number_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": field}]}],
    }


def status_item(
    wamid: str,
    status: str,
    numero: str,
    callback: str | None,
    *,
    code: int | None = None,
    title: str = "",
    details: str = "",
) -> dict[str, Any]:
    """One `statuses[]` item as Meta sends it."""
    item: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": numero,
    }
    if callback is not None:
        item["biz_opaque_callback_data"] = callback
    if status in ("sent", "delivered"):
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "utility"}
    if status == "failed":
        item["errors"] = [{
            "code": code,
            "title": title,
            "message": title,
            "error_data": {"details": details or title},
        }]
    return item


def text_message(sender: str, message_id: str, body: str) -> dict[str, Any]:
    """The `value` of a text message a member sends to the business."""
    return {
        "contacts": [{"profile": {"name": "Adhérent"}, "wa_id": sender}],
        "messages": [{
            "from": sender,
            "id": message_id,
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": body},
        }],
    }


def button_message(
    sender: str, message_id: str, payload: str, text: str, context_id: str, *, business: str
) -> dict[str, Any]:
    """The `value` of a tap on a template's quick-reply button: `type: button` with the
    payload the message carried, and the tapped message in `context`."""
    return {
        "contacts": [{"profile": {"name": "Adhérent"}, "wa_id": sender}],
        "messages": [{
            "context": {"from": business, "id": context_id},
            "from": sender,
            "id": message_id,
            "timestamp": str(int(time.time())),
            "type": "button",
            "button": {"payload": payload, "text": text},
        }],
    }


def preference_stop(wa_id: str) -> dict[str, Any]:
    """The `value` of Meta's user_preferences webhook when a member stops marketing messages."""
    return {
        "contacts": [{"profile": {"name": "Adhérent"}, "wa_id": wa_id}],
        "user_preferences": [{
            "wa_id": wa_id,
            "detail": "User requested to stop marketing messages",
            "category": "marketing_messages",
            "value": "stop",
            "timestamp": int(time.time()),
        }],
    }


class WebhookPoster:
    """Posts signed payloads to `url` when they are due (see the module docstring)."""

    def __init__(
        self, url: str, app_secret: str, *, workers: int = 4, max_attempts: int = 20,
        retry_delay: float = 0.2, timeout: float = 5.0,
    ) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path or "/"
        self.app_secret = app_secret
        self.max_attempts = max_attempts
        self.retry_delay = retry_delay
        self.timeout = timeout
        self._heap: list[tuple[float, int, bytes, int]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0
        self._closed = False
        self.answers: Counter[int] = Counter()  # HTTP statuses received (0: no answer)
        self.posted = 0
        self.given_up = 0
        self._threads = [
            threading.Thread(target=self._work, name=f"webhook-{i}", daemon=True)
            for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def post_at(self, due: float, payload: dict[str, Any]) -> None:
        """Queue `payload` to be posted at monotonic time `due`."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        with self._cond:
            heapq.heappush(self._heap, (due, next(self._seq), body, 1))
            self._cond.notify()

    def pending(self) -> int:
        with self._cond:
            return len(self._heap) + self._busy

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued payload was answered (or given up); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._heap or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=2)

    def _work(self) -> None:
        conn: http.client.HTTPConnection | None = None
        while True:
            with self._cond:
                while not self._closed and (
                    not self._heap or self._heap[0][0] > time.monotonic()
                ):
                    wait = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(wait if wait is None else max(0.0, min(wait, 0.5)))
                if self._closed:
                    return
                _due, _seq, body, attempt = heapq.heappop(self._heap)
                self._busy += 1
            status = 0
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                conn.request("POST", self.path, body, {
                    "Content-Type": "application/json",
                    "X-Hub-Signature-256": sign(body, self.app_secret),
                    "User-Agent": "facebookexternalua",
                })
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
            with self._cond:
                self._busy -= 1
                self.answers[status] += 1
                self.posted += 1
                if status != 200:
                    if attempt < self.max_attempts:
                        due = time.monotonic() + self.retry_delay * attempt
                        heapq.heappush(self._heap, (due, next(self._seq), body, attempt + 1))
                    else:
                        self.given_up += 1
                self._cond.notify_all()
