"""WSGI application: the built static site plus the signup and unsubscribe form endpoints.

- `GET`/`HEAD` serve files of the built Pelican site (`index.html` for directories).
- `POST /inscription` and `POST /desinscription` validate the form (`validation.py`), append one
  row to the register and answer `303 See Other` to the confirmation page; an invalid form comes
  back as `400` with the built page, the form re-rendered with the messages and the typed values.
- Every answer carries security headers; no input can produce a `500` (a genuine bug gives a
  French page and a log entry without phone numbers).
"""

from __future__ import annotations

import logging
import re
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

import jinja2

from sender.communes import current_communes
from sender.errors import AlerteError
from sender.intake import pages
from sender.intake.ratelimit import SlidingWindowLimiter
from sender.intake.static import content_type, decode_path, locate
from sender.intake.validation import FormOutcome, validate_signup, validate_unsubscribe
from sender.phones import clean_phone, mask_phone
from sender.register.base import Register
from sender.schema import ACTIVITES, DESINSCRIPTIONS, INSCRIPTIONS

log = logging.getLogger("sender.intake")

MAX_BODY: Final = 10 * 1024
MAX_FIELDS: Final = 64
FORM_TYPE: Final = "application/x-www-form-urlencoded"
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
NO_STORE: Final = "no-store"
HTML: Final = "text/html; charset=utf-8"
_STATUS: Final[dict[int, str]] = {
    200: "200 OK",
    301: "301 Moved Permanently",
    303: "303 See Other",
    304: "304 Not Modified",
    400: "400 Bad Request",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Content Too Large",
    415: "415 Unsupported Media Type",
    429: "429 Too Many Requests",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}
_PHONE_LIKE = re.compile(r"\+?\d[\d\s.\-/()]{6,}\d")


@dataclass(frozen=True, slots=True)
class FormSpec:
    """One public form: where it posts, where it lives in the built site, where it stores."""

    name: str
    action: str
    page: str
    template: str
    thanks: str
    tab: str
    title: str
    validate: Callable[[Mapping[str, str]], FormOutcome]


FORMS: Final[dict[str, FormSpec]] = {
    "/inscription": FormSpec(
        "inscription", "/inscription", "inscription/index.html",
        "partials/form_inscription.html", "/merci-inscription/", INSCRIPTIONS,
        "S’inscrire au réseau", validate_signup,
    ),
    "/desinscription": FormSpec(
        "desinscription", "/desinscription", "desinscription/index.html",
        "partials/form_desinscription.html", "/merci-desinscription/", DESINSCRIPTIONS,
        "Se désinscrire", validate_unsubscribe,
    ),
}
REGISTER_DOWN: Final = (
    "Le registre des inscriptions est momentanément indisponible\u00a0: votre demande n’a pas "
    "été enregistrée. Vos réponses sont conservées ci-dessous\u202f; réessayez dans quelques "
    "minutes."
)


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = HTML
    cache: str = NO_STORE
    headers: list[tuple[str, str]] | None = None


def scrub(text: str) -> str:
    """Mask anything that looks like a phone number (for logs)."""
    return _PHONE_LIKE.sub(lambda m: _masked(m.group(0)), text)


def _masked(typed: str) -> str:
    result = clean_phone(typed) if typed else None
    return mask_phone(result.numero if result and result.numero else typed)


class IntakeApp:
    """The WSGI callable. Build it with `create_app`."""

    def __init__(
        self,
        register_factory: Callable[[], Register] | Register,
        site_dir: Path,
        templates_dir: Path,
        *,
        posts_per_minute: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.site_dir = Path(site_dir).resolve()
        self.templates_dir = Path(templates_dir)
        self._register: Register | None = (
            register_factory if isinstance(register_factory, Register) else None
        )
        self._factory = None if self._register is not None else register_factory
        self._register_lock = threading.Lock()
        self.limiter = SlidingWindowLimiter(max(1, posts_per_minute), 60.0, clock=clock)
        self.jinja = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(self.templates_dir)),
            autoescape=True,
            auto_reload=True,
        )
        self._communes = [c.nom for c in current_communes()]

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
                scrub("".join(traceback.format_exception(exc))),
            )
            response = self._message(
                500,
                "Erreur du serveur",
                [
                    "Une erreur imprévue s’est produite de notre côté. Rien de ce qui avait "
                    "déjà été enregistré n’est perdu.",
                    "Réessayez dans quelques minutes\u202f; si le problème continue, "
                    "prévenez la CMA de la Lozère.",
                ],
            )
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("Cache-Control", response.cache),
            *SECURITY_HEADERS,
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
            return self._not_found()
        spec = FORMS.get(path.rstrip("/") or "/") if path != "/" else None
        if method == "POST":
            if spec is None:
                return self._method_not_allowed("GET, HEAD")
            return self._post(environ, spec)
        if method not in ("GET", "HEAD"):
            allow = "GET, HEAD, POST" if spec is not None else "GET, HEAD"
            return self._method_not_allowed(allow)
        return self._static(environ, path)

    # -- static site ---------------------------------------------------------------------

    def _static(self, environ: Mapping[str, Any], path: str) -> Response:
        found = locate(self.site_dir, path)
        if found.redirect is not None:
            query = str(environ.get("QUERY_STRING", "") or "")
            target = found.redirect + ("?" + query if query and "\n" not in query else "")
            return self._redirect(301, target, cache="public, max-age=3600")
        if found.file is None:
            return self._not_found()
        try:
            stat = found.file.stat()
            body = found.file.read_bytes()
        except OSError:
            return self._not_found()
        etag = f'"{stat.st_size:x}-{stat.st_mtime_ns:x}"'
        kind = content_type(found.file)
        cache = "no-cache" if kind.startswith("text/html") else "public, max-age=3600"
        headers = [("ETag", etag)]
        match = str(environ.get("HTTP_IF_NONE_MATCH", "") or "")
        if etag in [tag.strip() for tag in match.split(",")] or match.strip() == "*":
            return Response(304, b"", kind, cache, headers)
        return Response(200, body, kind, cache, headers)

    def _not_found(self) -> Response:
        try:
            body = (self.site_dir / "404.html").read_bytes()
        except OSError:
            return self._message(
                404,
                "Page introuvable",
                ["L’adresse demandée n’existe pas ou a changé."],
                links=pages.HOME_LINKS,
            )
        return Response(404, body, HTML, "no-cache")

    # -- forms ---------------------------------------------------------------------------

    def _post(self, environ: Mapping[str, Any], spec: FormSpec) -> Response:
        client = str(environ.get("REMOTE_ADDR", "") or "inconnu")
        wait = self.limiter.hit(client)
        if wait:
            seconds = self.limiter.retry_after(wait)
            response = self._message(
                429,
                "Trop d’envois",
                [
                    "Ce formulaire a été envoyé trop de fois depuis votre connexion en peu de "
                    "temps. Rien n’a été enregistré pour ce dernier envoi.",
                    f"Patientez environ {seconds} seconde{'s' if seconds > 1 else ''}, puis "
                    "réessayez.",
                ],
                links=[(spec.action + "/", "Revenir au formulaire")],
            )
            response.headers = [("Retry-After", str(seconds))]
            return response
        declared = str(environ.get("CONTENT_LENGTH", "") or "").strip()
        if declared:
            if not (declared.isascii() and declared.isdigit()):
                return self._bad_request(spec)
            if int(declared) > MAX_BODY:
                return self._too_large(spec)
        kind = str(environ.get("CONTENT_TYPE", "") or "")
        if not _is_form_type(kind) and (kind.strip() or declared not in ("", "0")):
            return self._message(
                415,
                "Format d’envoi non pris en charge",
                [
                    "Ce formulaire attend un envoi classique depuis la page du site "
                    "(application/x-www-form-urlencoded, UTF-8). Rien n’a été enregistré.",
                ],
                links=[(spec.action + "/", "Revenir au formulaire")],
            )
        try:
            stream = environ["wsgi.input"]
            body = stream.read(MAX_BODY + 1)
        except (KeyError, OSError, ValueError):
            return self._bad_request(spec)
        if not isinstance(body, bytes):
            return self._bad_request(spec)
        if len(body) > MAX_BODY:
            return self._too_large(spec)
        try:
            pairs = parse_qsl(
                body.decode("utf-8", "replace"),
                keep_blank_values=True,
                encoding="utf-8",
                errors="replace",
                max_num_fields=MAX_FIELDS,
            )
        except ValueError:
            return self._bad_request(spec)
        form: dict[str, str] = {}
        for key, value in pairs:
            form.setdefault(key, value)  # a repeated key: the first value counts
        outcome = spec.validate(form)
        if outcome.is_spam:
            log.info("Formulaire %s : envoi ignoré (champ piège rempli).", spec.name)
            return self._redirect(303, spec.thanks)
        if outcome.errors or outcome.row is None:
            log.info(
                "Formulaire %s refusé : %s.", spec.name, ", ".join(sorted(outcome.errors))
            )
            return self._form_page(400, spec, outcome.values, outcome.errors)
        try:
            self._get_register().append(spec.tab, [outcome.row])
        except AlerteError as exc:
            log.warning(
                "Formulaire %s : registre indisponible (%s) ; rien n’a été écrit.",
                spec.name,
                scrub(exc.message),
            )
            response = self._form_page(503, spec, outcome.values, {"registre": REGISTER_DOWN})
            response.headers = [("Retry-After", "120")]
            return response
        log.info(
            "Formulaire %s enregistré (%s).", spec.name, _masked(outcome.row.get("telephone", ""))
        )
        return self._redirect(303, spec.thanks)

    def _get_register(self) -> Register:
        if self._register is not None:
            return self._register
        with self._register_lock:
            if self._register is None:
                assert self._factory is not None
                self._register = self._factory()
            return self._register

    def _form_page(
        self, status: int, spec: FormSpec, values: Mapping[str, str], errors: Mapping[str, str]
    ) -> Response:
        """The built form page with the form re-rendered around the messages and values."""
        try:
            partial = self.jinja.get_template(spec.template).render(
                action=spec.action,
                values=dict(values),
                errors=dict(errors),
                communes=self._communes,
                activites=list(ACTIVITES),
            )
        except (jinja2.TemplateError, OSError) as exc:
            log.error("Gabarit %s illisible : %s", spec.template, scrub(str(exc)))
            return self._message(
                status,
                "Formulaire à corriger" if status == 400 else "Service indisponible",
                list(errors.values()),
                links=[(spec.action + "/", "Revenir au formulaire")],
            )
        start = f"<!--formulaire-{spec.name}-->"
        end = f"<!--/formulaire-{spec.name}-->"
        try:
            page = (self.site_dir / spec.page).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            page = ""
        i = page.find(start)
        j = page.find(end, i + len(start)) if i >= 0 else -1
        if i >= 0 and j >= 0:
            html = page[: i + len(start)] + "\n" + partial + "\n" + page[j:]
        else:
            heading = f"<h1>{escape(spec.title, quote=False)}</h1>\n"
            html = pages.shell_page(self.site_dir, spec.title, heading + partial)
        html = pages.replace_title(html, "Erreur\u00a0: ", prefix=True)
        return Response(status, html.encode("utf-8"))

    # -- small answers -------------------------------------------------------------------

    def _message(
        self,
        status: int,
        title: str,
        paragraphs: list[str],
        *,
        links: list[tuple[str, str]] | None = None,
    ) -> Response:
        html = pages.message_page(self.site_dir, title, paragraphs, links=links)
        return Response(status, html.encode("utf-8"))

    def _redirect(self, status: int, location: str, *, cache: str = NO_STORE) -> Response:
        href = escape(location)
        body = (
            '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><title>Redirection'
            f'</title></head><body><p><a href="{href}">Continuer</a></p></body></html>\n'
        )
        return Response(status, body.encode("utf-8"), HTML, cache, [("Location", location)])

    def _too_large(self, spec: FormSpec) -> Response:
        return self._message(
            413,
            "Envoi trop volumineux",
            [
                f"Le formulaire envoyé dépasse {MAX_BODY // 1024} Ko\u00a0: il ne peut pas "
                "venir de la page du site. Rien n’a été enregistré.",
                "Revenez au formulaire et remplissez chaque champ avec des réponses courtes.",
            ],
            links=[(spec.action + "/", "Revenir au formulaire")],
        )

    def _bad_request(self, spec: FormSpec) -> Response:
        return self._message(
            400,
            "Envoi illisible",
            [
                "Le formulaire envoyé n’a pas pu être lu. Rien n’a été enregistré.",
                "Revenez au formulaire et envoyez-le de nouveau depuis la page du site.",
            ],
            links=[(spec.action + "/", "Revenir au formulaire")],
        )

    def _method_not_allowed(self, allow: str) -> Response:
        response = self._message(
            405,
            "Action non prise en charge",
            ["Cette adresse ne permet pas cette action."],
            links=pages.HOME_LINKS,
        )
        response.headers = [("Allow", allow)]
        return response


def _is_form_type(value: str) -> bool:
    mime, _, params = value.partition(";")
    if mime.strip().lower() != FORM_TYPE:
        return False
    for param in params.split(";"):
        name, _, val = param.partition("=")
        charset = val.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            return False
    return True


def create_app(
    register_factory: Callable[[], Register] | Register,
    site_dir: Path,
    templates_dir: Path,
    *,
    posts_per_minute: int = 10,
    clock: Callable[[], float] = time.monotonic,
) -> IntakeApp:
    """Build the WSGI application.

    `register_factory` is a Register or a callable returning one; the callable is called on the
    first valid post (not at start-up) and its register reused, so a register that cannot be
    opened yet gives `503` pages instead of preventing the site from being served.
    `site_dir` is Pelican's output; `templates_dir` holds `partials/form_*.html`.
    """
    return IntakeApp(
        register_factory,
        Path(site_dir),
        Path(templates_dir),
        posts_per_minute=posts_per_minute,
        clock=clock,
    )
