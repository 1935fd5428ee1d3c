"""Form posts: the public forms, the request limits, validation, storing, re-rendering.

`FormHandling` is a mixin of `IntakeApp`: a post is rate-limited, size- and type-checked,
validated (`validation.py`), then appended to the register (`303` to the thanks page) or answered
with the form page re-rendered around the messages and typed values (`400`, or `503` when the
register is down).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

import jinja2

from sender.errors import AlerteError
from sender.intake import pages
from sender.intake.ratelimit import SlidingWindowLimiter
from sender.intake.responses import Answers, Response
from sender.intake.validation import FormOutcome, validate_signup, validate_unsubscribe
from sender.register.base import Register
from sender.schema import ACTIVITES, DESINSCRIPTIONS, INSCRIPTIONS
from sender.text import mask_numbers, mask_phone

log = logging.getLogger("sender.intake")

MAX_BODY: Final = 10 * 1024
MAX_FIELDS: Final = 64
FORM_TYPE: Final = "application/x-www-form-urlencoded"


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


class FormHandling(Answers):
    """POST handling (mixin; needs the attributes set by `IntakeApp.__init__`)."""

    site_dir: Path
    limiter: SlidingWindowLimiter
    jinja: jinja2.Environment
    _register: Register | None
    _factory: Callable[[], Register] | None
    _register_lock: threading.Lock
    _communes: list[str]

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
                mask_numbers(exc.message),
            )
            response = self._form_page(503, spec, outcome.values, {"registre": REGISTER_DOWN})
            response.headers = [("Retry-After", "120")]
            return response
        log.info(
            "Formulaire %s enregistré (%s).",
            spec.name,
            mask_phone(outcome.row.get("telephone", "")),
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
            log.error("Gabarit %s illisible : %s", spec.template, mask_numbers(str(exc)))
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
