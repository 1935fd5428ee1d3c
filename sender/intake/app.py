"""WSGI application: the built static site plus the signup and unsubscribe form endpoints.

- `GET`/`HEAD` serve files of the built Pelican site (`index.html` for directories).
- `POST /inscription` and `POST /desinscription` are refused (`403`) when they come from another
  site (`origin.py`), rate-limited per client (IPv4 address or IPv6 /64; behind the trusted
  reverse proxy, waitress gives the client's address), then handled by `forms.py`: one row
  appended to the register and `303 See Other` to the thank-you page, or `400` with the form
  re-rendered.
- `GET /confirmer?jeton=…` shows the confirmation button, `POST /confirmer` confirms
  (`confirmation.py`).
- `GET`/`POST /webhooks/whatsapp`: Meta's WhatsApp webhook (`webhook.py`), not rate-limited
  (Meta sends up to three times the outgoing rate), when the application was given one.
- Every answer carries security headers; no input can produce a `500` (a genuine bug gives a
  French page and a log entry without phone numbers).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import jinja2

from sender.config import Settings
from sender.consent.confirm import already_used
from sender.dates import now as paris_now
from sender.delivery.store import DeliveryStore
from sender.domain.communes import current_communes
from sender.errors import AlerteError, ConfigurationError
from sender.health.report import Health
from sender.intake import confirmation, pages, reverse, smsrequest
from sender.intake.forms import (
    FormPages,
    FormSpec,
    cross_site_refusal,
    forms_for,
    handle_post,
    read_post,
    too_many_posts,
)
from sender.intake.health import PATH as HEALTH_PATH
from sender.intake.health import HealthEndpoint
from sender.intake.hosts import HostCheck
from sender.intake.origin import is_cross_site
from sender.intake.ratelimit import SlidingWindowLimiter, client_key
from sender.intake.responses import (
    Response,
    message_response,
    method_not_allowed,
    not_found,
    redirect,
)
from sender.intake.static import content_type, decode_path, locate
from sender.intake.webhook import PATH as WEBHOOK_PATH
from sender.intake.webhook import WebhookEndpoint
from sender.journal.asked import SmsRequests
from sender.limits import FRENCH_REGIONS
from sender.register.base import Register
from sender.text import mask_numbers, plural

log = logging.getLogger(__name__)

CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Final = (
    ("Content-Security-Policy", CSP),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
_STATUS: Final[dict[int, str]] = {
    200: "200 OK",
    301: "301 Moved Permanently",
    303: "303 See Other",
    304: "304 Not Modified",
    400: "400 Bad Request",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    409: "409 Conflict",
    410: "410 Gone",
    413: "413 Content Too Large",
    415: "415 Unsupported Media Type",
    421: "421 Misdirected Request",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}


class IntakeApp:
    """The WSGI callable: routing, static files, security headers (built by `create_app`)."""

    def __init__(
        self,
        site_dir: Path,
        form_pages: FormPages,
        register: Callable[[], Register],
        limiter: SlidingWindowLimiter,
        *,
        secret: Callable[[], bytes],
        site_url: str | None = None,
        now: Callable[[], datetime] = paris_now,
        webhook: WebhookEndpoint | None = None,
        health: HealthEndpoint | None = None,
        countries: tuple[str, ...] = FRENCH_REGIONS,
        whatsapp_number: str | None = None,
        sms_requests: Callable[[], SmsRequests] | None = None,
    ) -> None:
        self.whatsapp_number = whatsapp_number  # set: requests are confirmed by writing to it
        self.sms_requests = sms_requests  # set: the thanks page offers « recevoir un SMS »
        self.site_dir = site_dir
        self.forms = forms_for(countries)
        self.hosts = HostCheck(site_url)
        self.form_pages = form_pages
        self.register = register
        self.limiter = limiter
        self.secret = secret
        self.site_url = site_url
        self.now = now
        self.webhook = webhook
        self.health = health

    # -- WSGI ----------------------------------------------------------------------------

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD", "GET")).upper()
        try:
            response = self._dispatch(environ, method)
        except Exception as exc:  # a genuine bug: never leak details, never log numbers
            log.error(
                "Erreur interne du serveur de formulaire (%s) :\n%s",
                type(exc).__name__,
                mask_numbers("".join(traceback.format_exception(exc))),
            )
            response = message_response(
                self.site_dir,
                500,
                "Erreur du serveur",
                [
                    "Une erreur imprévue s’est produite de notre côté. Rien de ce qui avait "
                    "déjà été enregistré n’est perdu.",
                    "Réessayez dans quelques minutes\u202f; si le problème continue, "
                    "prévenez la CMA de la Lozère.",
                ],
            )
        own = {name.lower() for name, _ in response.headers or []}
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("Cache-Control", response.cache),
            *(h for h in SECURITY_HEADERS if h[0].lower() not in own),  # a page may tighten
            *(response.headers or []),
        ]
        start_response(_STATUS.get(response.status, f"{response.status} Erreur"), headers)
        if method == "HEAD" or response.status == 304:
            return [b""]
        return [response.body]

    # -- routing -------------------------------------------------------------------------

    def _dispatch(self, environ: Mapping[str, Any], method: str) -> Response:
        path = decode_path(str(environ.get("PATH_INFO", "") or "/"))
        if path is None:
            return not_found(self.site_dir)
        if not self.hosts.allows(environ):
            return self.hosts.refusal(self.site_dir)
        route = path.rstrip("/") or "/"
        if route == WEBHOOK_PATH and self.webhook is not None:
            return self.webhook.handle(environ, method)
        if route == confirmation.PATH:
            return self._confirmation(environ, method)
        if route == HEALTH_PATH and self.health is not None:
            return self.health.handle(method)
        if route == smsrequest.PATH and self.sms_requests is not None:
            return self._sms_request(environ, method)
        spec = self.forms.get(route) if path != "/" else None
        if method == "POST":
            if spec is None:
                return method_not_allowed(self.site_dir, "GET, HEAD")
            return self._post(environ, spec)
        if method not in ("GET", "HEAD"):
            allow = "GET, HEAD, POST" if spec is not None else "GET, HEAD"
            return method_not_allowed(self.site_dir, allow)
        reverse_page = self._reverse_thanks(environ, route)
        return reverse_page if reverse_page is not None else self._static(environ, path)

    # -- reverse confirmation (the person writes to the WhatsApp number) ------------------

    def _reverse_thanks(self, environ: Mapping[str, Any], route: str) -> Response | None:
        """The thanks page with the link, the QR code and the code of `?code=`, or None."""
        if self.whatsapp_number is None:
            return None
        spec = next((s for s in self.forms.values() if s.thanks.rstrip("/") == route), None)
        code = reverse.code_of_query(environ) if spec is not None else None
        if spec is None or code is None:
            return None
        kind = reverse.kind_of(spec.tab)
        page = reverse.thanks_page(self.site_dir, kind, code, self.whatsapp_number)
        return page if self.sms_requests is None else smsrequest.with_button(page, kind, code)

    def _sms_request(self, environ: Mapping[str, Any], method: str) -> Response:
        """« Je n'ai pas WhatsApp : recevoir un SMS »: same-site, rate-limited, bounded."""
        if method != "POST":
            return method_not_allowed(self.site_dir, "POST")
        if is_cross_site(environ, self.site_url):
            log.info("Demande de SMS : envoi depuis un autre site refusé.")
            return cross_site_refusal(self.site_dir, "/")
        wait = self.limiter.hit(client_key(str(environ.get("REMOTE_ADDR", "") or "")))
        if wait:
            seconds = self.limiter.retry_after(wait)
            return message_response(
                self.site_dir, 429, "Trop d’envois",
                [f"Patientez environ {plural(seconds, 'seconde')}, puis réessayez."],
                links=pages.HOME_LINKS, headers=[("Retry-After", str(seconds))],
            )
        form = read_post(environ, self.site_dir, "/")
        if isinstance(form, Response):
            return form
        assert self.sms_requests is not None
        return smsrequest.record(self.site_dir, form, self.sms_requests)

    def _thanks(self, spec: FormSpec, row: dict[str, str]) -> str:
        """Where a stored request goes: its thanks page, with its code when the person
        confirms by writing to the WhatsApp number."""
        if self.whatsapp_number is None:
            return spec.thanks
        try:
            code = reverse.code_of_row(self.secret(), spec.tab, row)
        except AlerteError as exc:
            log.error("Code de confirmation impossible : %s", exc.message)
            return spec.thanks
        return spec.thanks if code is None else f"{spec.thanks}?code={code}"

    def _post(self, environ: Mapping[str, Any], spec: FormSpec) -> Response:
        if is_cross_site(environ, self.site_url):
            log.info("Formulaire %s : envoi depuis un autre site refusé.", spec.name)
            return cross_site_refusal(self.site_dir, spec.action + "/")
        wait = self.limiter.hit(client_key(str(environ.get("REMOTE_ADDR", "") or "")))
        if wait:
            return too_many_posts(self.site_dir, spec, self.limiter.retry_after(wait))
        return handle_post(
            environ, spec, form_pages=self.form_pages, register=self.register,
            thanks=self._thanks,
        )

    # -- confirmation links --------------------------------------------------------------

    def _confirmation(self, environ: Mapping[str, Any], method: str) -> Response:
        if method not in ("GET", "HEAD", "POST"):
            return method_not_allowed(self.site_dir, "GET, HEAD, POST")
        if method == "POST" and is_cross_site(environ, self.site_url):
            log.info("Confirmation : envoi depuis un autre site refusé.")
            return cross_site_refusal(self.site_dir, "/")
        try:
            secret = self.secret()
        except AlerteError as exc:
            log.error("Confirmation impossible : %s", exc.message)
            return message_response(
                self.site_dir, 503, "Service momentanément indisponible",
                ["La confirmation est momentanément impossible\u00a0: rien n’a été changé. "
                 "Réessayez plus tard avec le même lien."],
                links=pages.HOME_LINKS,
            )
        if method != "POST":
            token = confirmation.token_of_query(environ)
            # Reading the register costs a request: only within the form's rate limit.
            within = not self.limiter.hit(client_key(str(environ.get("REMOTE_ADDR", "") or "")))
            used = (lambda: already_used(self.register(), token, secret=secret, now=self.now())
                    ) if within else None
            return confirmation.show(self.site_dir, token, secret, self.now(), used)
        wait = self.limiter.hit(client_key(str(environ.get("REMOTE_ADDR", "") or "")))
        if wait:
            seconds = self.limiter.retry_after(wait)
            return message_response(
                self.site_dir, 429, "Trop d’envois",
                [f"Patientez environ {plural(seconds, 'seconde')}, puis "
                 "réessayez avec le même lien."],
                links=pages.HOME_LINKS, headers=[("Retry-After", str(seconds))],
            )
        form = read_post(environ, self.site_dir, "/")
        if isinstance(form, Response):
            return form
        return confirmation.confirm(
            self.site_dir, form, register=self.register, secret=secret, now=self.now()
        )

    # -- static site ---------------------------------------------------------------------

    def _static(self, environ: Mapping[str, Any], path: str) -> Response:
        found = locate(self.site_dir, path)
        if found.redirect is not None:
            query = str(environ.get("QUERY_STRING", "") or "")
            target = found.redirect + ("?" + query if query and "\n" not in query else "")
            return redirect(301, target, cache="public, max-age=3600")
        if found.file is None:
            return not_found(self.site_dir)
        try:
            stat = found.file.stat()
            body = found.file.read_bytes()
        except OSError:
            return not_found(self.site_dir)
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        kind = content_type(found.file)
        cache = "no-cache" if kind.startswith("text/html") else "public, max-age=3600"
        headers = [("ETag", etag)]
        match = str(environ.get("HTTP_IF_NONE_MATCH", "") or "")
        if etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*":
            return Response(304, b"", kind, cache, headers)
        return Response(200, body, kind, cache, headers)


class _RegisterOnDemand:
    """The register given, or the one its factory opens on the first call (once, even under
    concurrent posts)."""

    def __init__(self, source: Callable[[], Register] | Register) -> None:
        self._register = source if isinstance(source, Register) else None
        self._factory = None if isinstance(source, Register) else source
        self._lock = threading.Lock()

    def __call__(self) -> Register:
        if self._register is not None:
            return self._register
        with self._lock:
            if self._register is None:
                assert self._factory is not None
                self._register = self._factory()
            return self._register


def create_app(
    register_factory: Callable[[], Register] | Register,
    site_dir: Path,
    templates_dir: Path,
    *,
    posts_per_minute: int = 10,
    clock: Callable[[], float] = time.monotonic,
    secret: Callable[[], bytes] | bytes | None = None,
    site_url: str | None = None,
    now: Callable[[], datetime] = paris_now,
    webhook: WebhookEndpoint | None = None,
    health: Callable[[], Health] | None = None,
    countries: tuple[str, ...] = FRENCH_REGIONS,
    whatsapp_number: str | None = None,
    sms_requests: Callable[[], SmsRequests] | None = None,
) -> IntakeApp:
    """Build the WSGI application.

    `register_factory` is a Register or a callable returning one; the callable is called on the
    first valid post (not at start-up) and its register reused, so a register that cannot be
    opened yet gives `503` pages instead of preventing the site from being served.
    `site_dir` is Pelican's output; `templates_dir` holds `partials/form_*.html`.
    `secret` signs the confirmation links (bytes, or a callable called when a link is used:
    `consent.tokens.load_secret`); `site_url` is the public address posts may also come from;
    `webhook` answers `/webhooks/whatsapp` (see `webhook_for`); `health` makes the report
    `/sante` answers (`sender.health.report.health`); `countries`: the regions whose numbers may
    sign up. With `site_url`, a request for another host gets 421 (`hosts.py`).
    `whatsapp_number` (digits), when given, makes the thanks pages show the click-to-chat link
    and code (`reverse.py`); `sms_requests` adds their « recevoir un SMS » button
    (`smsrequest.py`).
    """
    site = Path(site_dir).resolve()
    templates = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(templates_dir))),
        autoescape=True,
        auto_reload=True,
    )
    form_pages = FormPages(site, templates, [c.nom for c in current_communes()])
    limiter = SlidingWindowLimiter(max(1, posts_per_minute), 60.0, clock=clock)
    return IntakeApp(
        site, form_pages, _RegisterOnDemand(register_factory), limiter,
        secret=_secret_provider(secret), site_url=site_url, now=now, webhook=webhook,
        health=HealthEndpoint(health) if health is not None else None,
        countries=countries,
        whatsapp_number=whatsapp_number, sms_requests=sms_requests,
    )


def _secret_provider(secret: Callable[[], bytes] | bytes | None) -> Callable[[], bytes]:
    if isinstance(secret, bytes):
        return lambda: secret
    if secret is not None:
        cache: list[bytes] = []

        def once() -> bytes:
            if not cache:
                cache.append(secret())
            return cache[0]

        return once

    def missing() -> bytes:
        raise ConfigurationError("Aucun secret de confirmation n’est configuré (ALERTE_SECRET).")

    return missing


def webhook_for(settings: Settings) -> WebhookEndpoint:
    """The WhatsApp webhook of these settings: events stored in the journal file; without
    WHATSAPP_VERIFY_TOKEN or WHATSAPP_APP_SECRET every request is refused (403)."""
    return WebhookEndpoint(
        lambda: DeliveryStore(settings.journal),
        verify_token=settings.whatsapp_verify_token,
        app_secret=settings.whatsapp_app_secret,
    )
