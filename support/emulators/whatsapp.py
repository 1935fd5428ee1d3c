"""A local WhatsApp Cloud API emulator.

It listens on 127.0.0.1 (port chosen by the OS), speaks HTTP/1.1 with keep-alive so a pool of
clients can push hundreds of messages per second, validates template messages roughly like the
Graph API does, and injects the faults a real network has: throughput errors (130429), 5xx,
dropped connections, slow or hanging answers, and stalls (requests accepted, answers held).

Like Meta, it can post signed status webhooks for the messages it accepts (`webhooks`):
asynchronously, after a delay, with duplicates, out of order, and `failed` statuses with the
codes given per number. Members' own messages (« STOP ») and the `user_preferences` opt-out are
posted on request; free-form text messages are accepted only within 24 h of the member's last
message, as on the real API.

    with WhatsAppEmulator(token="t", phone_number_id="123") as wa:
        wa.add_template("alerte_commerces", parameters=["type", "commune"])
        wa.webhooks("http://127.0.0.1:8000/webhooks/whatsapp", "app-secret")
        channel = WhatsAppChannel(wa.base_url, "123", "t")
        ...
        assert wa.accepted_count("33612345678") == 1
"""

from __future__ import annotations

import itertools
import json
import random
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from support.emulators.http import HttpEmulator, Reply, Request
from support.emulators.webhooks import (
    WebhookPoster,
    button_message,
    envelope,
    preference_stop,
    status_item,
    text_message,
)

# Title and English explanation of the Graph/Cloud API codes the emulator produces. The titles
# follow the public error-code list; the explanations are ours.
GRAPH_ERRORS: dict[int, tuple[str, str]] = {
    1: ("API Unknown", "Unknown error, try again later."),
    2: ("API Service", "Service temporarily unavailable."),
    4: ("API Too Many Calls", "The app reached its API call rate limit."),
    10: ("Permission Denied", "Permission not granted or removed."),
    100: ("Invalid parameter", "A parameter is missing, misspelled or not supported."),
    190: ("Access token has expired", "Error validating access token."),
    200: ("Permission Denied", "Permission not granted or removed."),
    368: ("Temporarily blocked for policies violations", "The account is restricted."),
    80007: ("Rate limit issues", "The WhatsApp Business Account reached its rate limit."),
    130429: ("Rate limit hit", "Cloud API message throughput has been reached."),
    130472: ("User's number is part of an experiment", "Message not sent (experiment)."),
    131000: ("Something went wrong", "Message failed to send because of an unknown error."),
    131005: ("Access denied", "Permission is either not granted or has been removed."),
    131008: ("Required parameter is missing", "The request is missing a required parameter."),
    131009: ("Parameter value is not valid", "One or more parameter values are invalid."),
    131016: ("Service unavailable", "A service is temporarily unavailable."),
    131021: ("Recipient cannot be sender", "Sender and recipient phone number are the same."),
    131026: ("Message Undeliverable", "Unable to deliver the message to this number."),
    131030: ("Recipient phone number not in allowed list", "Add the number to the test list."),
    131031: ("Account has been locked", "The business account is restricted or disabled."),
    131042: ("Business eligibility payment issue", "There is a payment method problem."),
    131045: ("Incorrect certificate", "Phone number registration certificate problem."),
    131047: ("Re-engagement message", "More than 24 hours since the recipient last replied."),
    131048: ("Spam rate limit hit", "Too many previous messages were blocked or flagged."),
    131049: ("Meta chose not to deliver", "Message not delivered to maintain engagement."),
    131050: ("User has stopped marketing messages", "The user opted out of marketing."),
    131051: ("Unsupported message type", "This message type is not supported."),
    131056: ("Pair rate limit hit", "Too many messages to the same number in a short time."),
    131057: ("Account in maintenance mode", "The business account is in maintenance mode."),
    132000: ("Number of parameters does not match the expected number of params",
             "The parameter count does not match the template."),
    132001: ("Template does not exist", "The template does not exist in this language."),
    132005: ("Translated text too long", "The filled-in template text is too long."),
    132007: ("Template format character policy violated", "Content violates the policy."),
    132012: ("Template parameter format mismatch", "A parameter has the wrong format."),
    132015: ("Template is Paused", "The template is paused because of low quality."),
    132016: ("Template is Disabled", "The template has been disabled."),
    132018: ("Template Parameter Issue",
             "Param text cannot have new-line/tab characters or more than 4 consecutive spaces."),
    133010: ("Phone number Not Registered", "The sending number is not registered."),
}

BUTTON_TEXT = "Je confirme"  # what a quick-reply tap reports as the button's text
_HTTP_FOR_CODE = {190: 401, 10: 403, 200: 403, 1: 500, 2: 503, 131000: 500, 131016: 503}
_PATH = re.compile(r"^/(v\d+\.\d+)/([^/?#]+)/messages/?(?:\?.*)?$")
_DIGITS = re.compile(r"^\d{6,15}$")
_BAD_WHITESPACE = re.compile(r"[\n\r\t]| {5,}")


class Accepted(NamedTuple):
    to: str
    template: str
    parameters: dict[str, str]
    wamid: str
    callback: str | None = None
    button_payload: str | None = None  # the quick-reply button's payload, when the template has one


class Reply24h(NamedTuple):
    """A free-form text message sent within a member's 24-hour window."""

    to: str
    body: str
    wamid: str


@dataclass
class _WebhookPlan:
    """How the emulator reports statuses (see `WhatsAppEmulator.webhooks`)."""

    delay: float = 0.05
    duplicate: float = 0.0
    reorder: float = 0.0
    read: float = 0.0
    failed: dict[str, int] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)


@dataclass(frozen=True)
class Template:
    name: str
    language: str
    parameters: tuple[str, ...]
    quick_reply: bool = False  # a quick-reply button (first button) whose payload the message sets


def graph_error(
    code: int,
    *,
    status: int | None = None,
    details: str | None = None,
    subcode: int | None = None,
) -> Reply:
    """A Graph API error answer, shaped like the real ones."""
    title, explanation = GRAPH_ERRORS.get(code, ("Unknown error", "Unknown error."))
    error: dict[str, Any] = {"message": f"(#{code}) {title}", "type": "OAuthException",
                             "code": code}
    headers = {}
    if code == 190:
        headers["WWW-Authenticate"] = 'OAuth "Facebook Platform" "invalid_token"'
    else:
        error["error_data"] = {"messaging_product": "whatsapp",
                               "details": details or explanation}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
    return Reply(status or _HTTP_FOR_CODE.get(code, 400), {"error": error}, headers)


def _accepted(to: str, wamid: str) -> Reply:
    return Reply(200, {
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": wamid}],
    })


class WhatsAppEmulator(HttpEmulator):
    """Emulates `POST /vNN.N/{phone-number-id}/messages` of the WhatsApp Cloud API."""

    def __init__(
        self,
        *,
        token: str = "test-token",
        phone_number_id: str = "106540352242922",
        version: str = "v25.0",
        latency: float = 0.0,
        rate_limit: float | None = None,
        rate_burst: float | None = None,
        rate_limit_status: int = 400,
    ) -> None:
        self.token = token
        self.phone_number_id = phone_number_id
        self.version = version
        self.rate_limit_status = rate_limit_status
        self.templates: dict[str, Template] = {}
        self._not_on_whatsapp: set[str] = set()
        self._recipient_errors: dict[str, int] = {}
        self._windows: dict[str, float] = {}  # number → monotonic end of its 24-hour window
        self._poster: WebhookPoster | None = None
        self._plan = _WebhookPlan()
        self._incoming = itertools.count(1)
        super().__init__(latency=latency, rate_limit=rate_limit, rate_burst=rate_burst)

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/{self.version}"

    # -- configuration ----------------------------------------------------------------------

    def add_template(
        self, name: str, language: str = "fr", parameters: Iterable[str] = (),
        *, quick_reply: bool = False,
    ) -> None:
        """Register an approved template with its named body parameters (and a quick-reply
        button when `quick_reply`)."""
        with self._lock:
            self.templates[name] = Template(name, language, tuple(parameters), quick_reply)

    def not_on_whatsapp(self, *numbers: str) -> None:
        """These numbers (digits, with or without +) get 131026."""
        with self._lock:
            self._not_on_whatsapp.update(n.lstrip("+") for n in numbers)

    def fail_recipient(self, number: str, code: int) -> None:
        """Every message to `number` fails with this Graph error code."""
        with self._lock:
            self._recipient_errors[number.lstrip("+")] = code

    def clear_recipient(self, number: str) -> None:
        """Messages to `number` are accepted again."""
        with self._lock:
            self._recipient_errors.pop(number.lstrip("+"), None)
            self._not_on_whatsapp.discard(number.lstrip("+"))

    def fail_next(self, n: int = 1, *, code: int | None = None, http_status: int | None = None
                  ) -> None:
        """The next `n` requests fail with this Graph code (its usual HTTP status unless
        `http_status` is given) or, without a code, with a bare server error `http_status`."""
        if code is not None:
            reply = graph_error(code, status=http_status)
        else:
            reply = self._server_error(http_status or 500)
        self._script("reply", n, reply)

    # -- webhooks ---------------------------------------------------------------------------

    def webhooks(
        self,
        url: str,
        app_secret: str,
        *,
        delay: float = 0.05,
        duplicate: float = 0.0,
        reorder: float = 0.0,
        read: float = 0.0,
        failed: Mapping[str, int] | None = None,
        seed: int | None = None,
    ) -> None:
        """Post signed status webhooks to `url` for every message accepted from now on:
        `sent` after `delay` seconds, `delivered` after twice that, `read` (with probability
        `read`) after three times. Numbers in `failed` (digits → Graph code) get one `failed`
        status with that code instead. Each status is posted twice with probability
        `duplicate`; with probability `reorder` the statuses of a message come in reverse
        order."""
        self.stop_webhooks()
        with self._lock:
            self._poster = WebhookPoster(url, app_secret)
            self._plan = _WebhookPlan(
                delay, duplicate, reorder, read,
                {n.lstrip("+"): c for n, c in (failed or {}).items()}, random.Random(seed),
            )

    def stop_webhooks(self) -> None:
        with self._lock:
            poster, self._poster = self._poster, None
        if poster is not None:
            poster.close()

    @property
    def poster(self) -> WebhookPoster | None:
        return self._poster

    def flush_webhooks(self, timeout: float = 30.0) -> bool:
        """Wait until every queued webhook was answered; False on timeout."""
        return self._poster is None or self._poster.flush(timeout)

    def post_statuses(self) -> int:
        """Queue the status webhooks of every message accepted so far (as if Meta reported
        them now); returns how many messages."""
        with self._lock:
            for accepted in self.accepted:
                self._report(accepted)
            return len(self.accepted)

    def incoming_text(self, sender: str, body: str) -> str:
        """A member sends `body` to the business: post the webhook and open the member's
        24-hour window. Returns the message id."""
        number = sender.lstrip("+")
        message_id = f"wamid.entrant{next(self._incoming)}"
        with self._lock:
            self._windows[number] = time.monotonic() + 24 * 3600
        self._post_now(envelope("messages", text_message(number, message_id, body),
                                self.phone_number_id))
        return message_id

    def tap_button(self, number: str) -> str:
        """The member taps the quick-reply button of the last message with one sent to
        `number`: post the webhook (`type: button`, its payload) and open the member's 24-hour
        window. Returns the message id."""
        to = number.lstrip("+")
        with self._lock:
            tapped = next(
                (a for a in reversed(self.accepted) if a.to == to and a.button_payload), None
            )
            if tapped is None:
                raise LookupError(f"no message with a button was accepted for {to}")
            self._windows[to] = time.monotonic() + 24 * 3600
        message_id = f"wamid.entrant{next(self._incoming)}"
        assert tapped.button_payload is not None
        self._post_now(envelope(
            "messages",
            button_message(to, message_id, tapped.button_payload, BUTTON_TEXT, tapped.wamid,
                           business=self.phone_number_id),
            self.phone_number_id,
        ))
        return message_id

    def preference_stop(self, wa_id: str) -> None:
        """A member stops marketing messages in WhatsApp: post the user_preferences webhook."""
        self._post_now(envelope("user_preferences", preference_stop(wa_id.lstrip("+")),
                                self.phone_number_id))

    def _post_now(self, payload: dict[str, Any]) -> None:
        if self._poster is None:
            raise RuntimeError("webhooks not configured: call webhooks(url, secret) first")
        self._poster.post_at(time.monotonic(), payload)

    def _report(self, accepted: Accepted) -> None:
        """Queue the status webhooks of one accepted message (called with the lock held)."""
        poster, plan = self._poster, self._plan
        if poster is None:
            return
        rng = plan.rng
        code = plan.failed.get(accepted.to)
        if code is not None:
            title, details = GRAPH_ERRORS.get(code, ("Unknown error", "Unknown error."))
            items = [status_item(accepted.wamid, "failed", accepted.to, accepted.callback,
                                 code=code, title=title, details=details)]
        else:
            names = ["sent", "delivered"] + (["read"] if rng.random() < plan.read else [])
            items = [status_item(accepted.wamid, n, accepted.to, accepted.callback)
                     for n in names]
        if len(items) > 1 and rng.random() < plan.reorder:
            items.reverse()
        now = time.monotonic()
        for step, item in enumerate(items, start=1):
            payload = envelope("messages", {"statuses": [item]}, self.phone_number_id)
            poster.post_at(now + plan.delay * step, payload)
            if rng.random() < plan.duplicate:
                poster.post_at(now + plan.delay * (step + rng.random() * 3), payload)

    def stop(self) -> None:
        self.stop_webhooks()
        super().stop()

    # -- records ----------------------------------------------------------------------------

    def _reset_records(self) -> None:
        self.accepted: list[Accepted] = []
        self.replies: list[Reply24h] = []
        self._per_recipient: Counter[str] = Counter()

    def accepted_count(self, to: str) -> int:
        with self._lock:
            return self._per_recipient[to.lstrip("+")]

    def accepted_numbers(self) -> Counter[str]:
        with self._lock:
            return Counter(self._per_recipient)

    # -- provider specifics -----------------------------------------------------------------

    def _server_error(self, status: int) -> Reply:
        if status == 502:
            return Reply(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>")
        return graph_error(2 if status == 503 else 1, status=status)

    def _rate_limit_reply(self) -> Reply:
        return graph_error(130429, status=self.rate_limit_status)

    def handle(self, request: Request) -> Reply:
        match = _PATH.match(request.path)
        if match is None or match.group(1) != self.version:
            # A wrong WHATSAPP_API_URL (no version, a typo): the server knows no such page.
            return Reply(404, b"<html><body><h1>404 Not Found</h1></body></html>")
        if request.method != "POST":
            return graph_error(100, status=400, subcode=33,
                               details="Unsupported request: unknown method.")
        auth = request.headers.get("Authorization", "")
        if auth != f"Bearer {self.token}":
            return graph_error(190)
        if match.group(2) != self.phone_number_id:
            return graph_error(
                100, subcode=33,
                details="Unsupported post request. The phone number id does not exist.",
            )
        if not self.check_rate():
            return self._rate_limit_reply()
        try:
            payload = request.json()
        except (UnicodeDecodeError, json.JSONDecodeError):
            return graph_error(100, details="The request body is not valid JSON.")
        if not isinstance(payload, dict):
            return graph_error(100, details="The request body must be a JSON object.")
        return self._validate_and_accept(payload)

    def _validate_and_accept(self, payload: dict[str, Any]) -> Reply:
        if payload.get("messaging_product") != "whatsapp":
            return graph_error(100, details="messaging_product must be 'whatsapp'.")
        to = payload.get("to")
        if not to:
            return graph_error(131008, details="Parameter 'to' is required.")
        if not isinstance(to, str) or not _DIGITS.match(to):
            return graph_error(100, details="Parameter 'to' must be digits only.")
        kind = payload.get("type", "text")
        if kind == "text":
            return self._free_form(to, payload)
        if kind != "template":
            return graph_error(131051)
        template = payload.get("template")
        if not isinstance(template, dict) or not template.get("name"):
            return graph_error(131008, details="Parameter 'template.name' is required.")
        name = template["name"]
        language = (template.get("language") or {}).get("code")
        with self._lock:
            known = self.templates.get(name)
            forced = self._recipient_errors.get(to)
            absent = to in self._not_on_whatsapp
        if known is None or language != known.language:
            return graph_error(
                132001, details=f"Template name {name} does not exist in {language}."
            )
        params, error = self._body_parameters(template.get("components"), known)
        if error is not None:
            return error
        button, error = self._button_payload(template.get("components"), known)
        if error is not None:
            return error
        if absent:
            return graph_error(131026)
        if forced is not None:
            return graph_error(forced)
        wamid = "wamid." + secrets.token_urlsafe(24)
        callback = payload.get("biz_opaque_callback_data")
        if not isinstance(callback, str):
            callback = None
        accepted = Accepted(to, name, params, wamid, callback, button)
        with self._lock:
            self.accepted.append(accepted)
            self._per_recipient[to] += 1
            self._report(accepted)
        return _accepted(to, wamid)

    def _free_form(self, to: str, payload: dict[str, Any]) -> Reply:
        """Free-form text: only within 24 h of the member's last message (else 131047)."""
        text = payload.get("text")
        body = text.get("body") if isinstance(text, dict) else None
        if not isinstance(body, str) or not body.strip():
            return graph_error(131008, details="Parameter 'text.body' is required.")
        with self._lock:
            open_until = self._windows.get(to, 0.0)
        if time.monotonic() > open_until:
            return graph_error(131047)
        wamid = "wamid." + secrets.token_urlsafe(24)
        with self._lock:
            self.replies.append(Reply24h(to, body, wamid))
        return _accepted(to, wamid)

    @staticmethod
    def _button_payload(components: Any, known: Template) -> tuple[str | None, Reply | None]:
        """The payload of a quick-reply button component, checked against the template."""
        buttons = [
            c for c in (components if isinstance(components, list) else [])
            if isinstance(c, dict) and c.get("type") == "button"
        ]
        if not known.quick_reply:
            if buttons:
                return None, graph_error(
                    132000, details="button: the template has no button with parameters"
                )
            return None, None
        if len(buttons) != 1 or buttons[0].get("sub_type") != "quick_reply" or str(
            buttons[0].get("index")
        ) != "0":
            return None, graph_error(
                131008, details="Parameter 'button' (quick_reply, index 0) is required."
            )
        parameters = buttons[0].get("parameters")
        if (
            not isinstance(parameters, list) or len(parameters) != 1
            or not isinstance(parameters[0], dict) or parameters[0].get("type") != "payload"
            or not isinstance(parameters[0].get("payload"), str)
            or not parameters[0]["payload"].strip()
        ):
            return None, graph_error(132012, details="button: a payload parameter is expected.")
        return parameters[0]["payload"], None

    @staticmethod
    def _body_parameters(
        components: Any, known: Template
    ) -> tuple[dict[str, str], Reply | None]:
        expected = len(known.parameters)
        components = components or []
        if not isinstance(components, list):
            return {}, graph_error(100, details="components must be a list.")
        bodies = [c for c in components if isinstance(c, dict) and c.get("type") == "body"]
        raw = bodies[0].get("parameters", []) if bodies else []
        mismatch = graph_error(
            132000,
            details=f"body: number of localizable_params ({len(raw)}) does not match the "
            f"expected number of params ({expected})",
        )
        if len(bodies) > 1 or not isinstance(raw, list) or len(raw) != expected:
            return {}, mismatch
        params: dict[str, str] = {}
        for item in raw:
            if not isinstance(item, dict) or item.get("type") != "text":
                return {}, graph_error(132012, details="Body parameters must be of type text.")
            pname, text = item.get("parameter_name"), item.get("text")
            if pname not in known.parameters or pname in params:
                return {}, mismatch
            if not isinstance(text, str) or not text.strip():
                return {}, graph_error(131008, details=f"Parameter '{pname}' has no text.")
            if _BAD_WHITESPACE.search(text):
                return {}, graph_error(132018)
            if len(text) > 1024:
                return {}, graph_error(
                    131009, details=f"Parameter '{pname}' is longer than 1024 characters."
                )
            params[pname] = text
        return params, None
