"""Form posts: the public forms, the request limits, validation, storing, re-rendering.

`handle_post` takes a post the application has already rate-limited: it is size- and
type-checked, validated (`validation.py`), then appended to the register (`303` to the thanks
page) or answered with the form page re-rendered around the messages and typed values (`400`, or
`503` when the register is down).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from html import escape
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

import jinja2

from sender.errors import AlerteError
from sender.intake import pages
from sender.intake.responses import Response, message_response, redirect
from sender.intake.validation import FormOutcome, validate_signup, validate_unsubscribe
from sender.register.base import Register
from sender.schema import ACTIVITES, DESINSCRIPTIONS, INSCRIPTIONS
from sender.text import mask_numbers, mask_phone, plural

log = logging.getLogger(__name__)

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
# Posts that cannot be read: (status, title, paragraphs) of the French page answering them.
_TOO_LARGE: Final = (
    413,
    "Envoi trop volumineux",
    (
        f"Le formulaire envoyé dépasse {MAX_BODY // 1024} Ko\u00a0: il ne peut pas venir de la "
        "page du site. Rien n’a été enregistré.",
        "Revenez au formulaire et remplissez chaque champ avec des réponses courtes.",
    ),
)
_UNREADABLE: Final = (
    400,
    "Envoi illisible",
    (
        "Le formulaire envoyé n’a pas pu être lu. Rien n’a été enregistré.",
        "Revenez au formulaire et envoyez-le de nouveau depuis la page du site.",
    ),
)
_UNSUPPORTED: Final = (
    415,
    "Format d’envoi non pris en charge",
    (
        "Ce formulaire attend un envoi classique depuis la page du site "
        "(application/x-www-form-urlencoded, UTF-8). Rien n’a été enregistré.",
    ),
)
REGISTER_DOWN: Final = (
    "Le registre des inscriptions est momentanément indisponible\u00a0: votre demande n’a pas "
    "été enregistrée. Vos réponses sont conservées ci-dessous\u202f; réessayez dans quelques "
    "minutes."
)


@dataclass(frozen=True, slots=True)
class FormPages:
    """The built form pages, re-rendered around the messages and the values typed."""

    site_dir: Path
    templates: jinja2.Environment
    communes: list[str]

    def render(
        self,
        status: int,
        spec: FormSpec,
        values: Mapping[str, str],
        errors: Mapping[str, str],
        *,
        headers: list[tuple[str, str]] | None = None,
    ) -> Response:
        try:
            partial = self.templates.get_template(spec.template).render(
                action=spec.action,
                values=dict(values),
                errors=dict(errors),
                communes=self.communes,
                activites=list(ACTIVITES),
            )
        except (jinja2.TemplateError, OSError) as exc:
            log.error("Gabarit %s illisible : %s", spec.template, mask_numbers(str(exc)))
            return _refusal(
                self.site_dir,
                spec,
                status,
                "Formulaire à corriger" if status == 400 else "Service indisponible",
                list(errors.values()),
                headers=headers,
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
        return Response(status, html.encode("utf-8"), headers=headers)


def handle_post(
    environ: Mapping[str, Any],
    spec: FormSpec,
    *,
    form_pages: FormPages,
    register: Callable[[], Register],
    thanks: Callable[[FormSpec, dict[str, str]], str] | None = None,
) -> Response:
    """Read, validate and store one post to the form `spec`; the answer to send back.
    `thanks` gives the address of the thanks page of a stored row (default: `spec.thanks`)."""
    form = _read_form(environ, spec, form_pages.site_dir)
    if isinstance(form, Response):
        return form
    outcome = spec.validate(form)
    if outcome.is_spam:
        log.info("Formulaire %s : envoi ignoré (champ piège rempli).", spec.name)
        return redirect(303, spec.thanks)
    if outcome.errors or outcome.row is None:
        log.info(
            "Formulaire %s refusé : %s.", spec.name, ", ".join(sorted(outcome.errors))
        )
        return form_pages.render(400, spec, outcome.values, outcome.errors)
    try:
        register().append(spec.tab, [outcome.row])
    except AlerteError as exc:
        log.warning(
            "Formulaire %s : registre indisponible (%s) ; rien n’a été écrit.",
            spec.name,
            mask_numbers(exc.message),
        )
        return form_pages.render(
            503, spec, outcome.values, {"registre": REGISTER_DOWN},
            headers=[("Retry-After", "120")],
        )
    log.info(
        "Formulaire %s enregistré (%s).",
        spec.name,
        mask_phone(outcome.row.get("telephone", "")),
    )
    return redirect(303, spec.thanks if thanks is None else thanks(spec, outcome.row))


def too_many_posts(site_dir: Path, spec: FormSpec, seconds: int) -> Response:
    """`429` for a client that posted too often; `seconds` until it may post again."""
    return _refusal(
        site_dir,
        spec,
        429,
        "Trop d’envois",
        [
            "Ce formulaire a été envoyé trop de fois depuis votre connexion en peu de "
            "temps. Rien n’a été enregistré pour ce dernier envoi.",
            f"Patientez environ {plural(seconds, 'seconde')}, puis "
            "réessayez.",
        ],
        headers=[("Retry-After", str(seconds))],
    )


def _read_form(
    environ: Mapping[str, Any], spec: FormSpec, site_dir: Path
) -> dict[str, str] | Response:
    return read_post(environ, site_dir, spec.action + "/")


def read_post(
    environ: Mapping[str, Any], site_dir: Path, back: str
) -> dict[str, str] | Response:
    """The posted fields (the first value of a repeated key), or the answer refusing the post
    (with a link to `back`)."""
    declared = str(environ.get("CONTENT_LENGTH", "") or "").strip()
    if declared:
        if not (declared.isascii() and declared.isdigit()):
            return _refused(site_dir, back, *_UNREADABLE)
        if int(declared) > MAX_BODY:
            return _refused(site_dir, back, *_TOO_LARGE)
    kind = str(environ.get("CONTENT_TYPE", "") or "")
    if not _is_form_type(kind) and (kind.strip() or declared not in ("", "0")):
        return _refused(site_dir, back, *_UNSUPPORTED)
    try:
        stream = environ["wsgi.input"]
        body = stream.read(MAX_BODY + 1)
    except (KeyError, OSError, ValueError):
        return _refused(site_dir, back, *_UNREADABLE)
    if not isinstance(body, bytes):
        return _refused(site_dir, back, *_UNREADABLE)
    if len(body) > MAX_BODY:
        return _refused(site_dir, back, *_TOO_LARGE)
    try:
        pairs = parse_qsl(
            body.decode("utf-8", "replace"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="replace",
            max_num_fields=MAX_FIELDS,
        )
    except ValueError:
        return _refused(site_dir, back, *_UNREADABLE)
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(key, value)
    return form


def _refusal(
    site_dir: Path,
    spec: FormSpec,
    status: int,
    title: str,
    paragraphs: Sequence[str],
    *,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """A French page explaining why a post was not stored, with a link back to the form."""
    return _refused(site_dir, spec.action + "/", status, title, paragraphs, headers=headers)


def _refused(
    site_dir: Path,
    back: str,
    status: int,
    title: str,
    paragraphs: Sequence[str],
    *,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    return message_response(
        site_dir,
        status,
        title,
        list(paragraphs),
        links=[(back, "Revenir au formulaire" if back != "/" else "Revenir à l’accueil")],
        headers=headers,
    )


def cross_site_refusal(site_dir: Path, back: str) -> Response:
    """`403` for a post made from another site's page: nothing is stored."""
    return _refused(
        site_dir,
        back,
        403,
        "Envoi refusé",
        (
            "Ce formulaire ne peut être envoyé que depuis une page du site Alerte Message. "
            "Rien n’a été enregistré.",
            "Si vous avez rempli le formulaire sur le site lui-même, revenez-y et envoyez-le "
            "de nouveau.",
        ),
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


def forms_for(countries: tuple[str, ...]) -> dict[str, FormSpec]:
    """The public forms, sign-ups limited to numbers issued in `countries`."""
    signup = FORMS["/inscription"]
    return {
        **FORMS,
        "/inscription": replace(signup, validate=partial(validate_signup, countries=countries)),
    }
