"""The confirmation page `/confirmer?jeton=…`, where a phone's owner confirms a request.

`GET` only shows the request and a button: link previews (messaging apps fetch every link they
display), antivirus scanners and prefetching browsers open links without anyone reading them,
and must not confirm anything. The button posts the token back (`POST /confirmer`, a plain form
that works without JavaScript), and only that post writes `confirme_le` in the register
(`consent.confirm.confirm_token`). Every answer is a French page; none reveals a number.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qs

from sender.consent.confirm import ConfirmResult, Outcome, check_token, confirm_token
from sender.consent.messages import WITHOUT_ANSWER
from sender.consent.tokens import DESINSCRIPTION, INSCRIPTION, MAX_TOKEN_LENGTH
from sender.errors import AlerteError
from sender.intake import pages
from sender.intake.responses import Response, message_response
from sender.register.base import Register
from sender.text import mask_numbers

log = logging.getLogger(__name__)

PATH: Final = "/confirmer"
# The token travels in the address: never indexed, and (with the site-wide `Referrer-Policy:
# same-origin`) never sent to another site. Not `no-referrer`: browsers then send `Origin: null`
# with the button's post, which the cross-site check must refuse.
HEADERS: Final = [("X-Robots-Tag", "noindex")]
_FORMS: Final = {INSCRIPTION: "/inscription/", DESINSCRIPTION: "/desinscription/"}
_WHAT: Final = {INSCRIPTION: "votre inscription", DESINSCRIPTION: "votre désinscription"}


def _page(site_dir: Path, status: int, title: str, paragraphs: list[str],
          links: list[tuple[str, str]] | None = None) -> Response:
    return message_response(
        site_dir, status, title, paragraphs, links=links or pages.HOME_LINKS, headers=HEADERS
    )


def token_of_query(environ: Mapping[str, Any]) -> str:
    query = str(environ.get("QUERY_STRING", "") or "")
    values = parse_qs(query, max_num_fields=8).get("jeton", [""]) if len(query) < 1024 else [""]
    return values[0][:MAX_TOKEN_LENGTH + 1]


def show(site_dir: Path, token: str, secret: bytes, now: datetime,
         used: Callable[[], bool] | None = None) -> Response:
    """`GET /confirmer`: the request and its button, or why the link cannot be used
    (`used` says whether the request is already confirmed: « déjà utilisé » at once)."""
    if not token:
        return _page(site_dir, 400, "Lien incomplet", [
            "Cette adresse s’ouvre depuis le lien du message de confirmation reçu sur votre "
            "téléphone. Ouvrez ce lien en entier\u202f; rien n’a été changé.",
        ])
    checked = check_token(secret, token, now)
    if checked.outcome is not Outcome.CONFIRMED or checked.kind is None:
        return answer(site_dir, checked)
    kind = checked.kind
    if used is not None and _used(used):
        return answer(site_dir, ConfirmResult(Outcome.ALREADY, kind))
    title = f"Confirmer {_WHAT[kind]}"
    if kind == INSCRIPTION:
        intro = (
            "Touchez le bouton pour confirmer l’inscription de ce numéro au réseau Alerte "
            "Message\u00a0: il recevra ensuite les alertes des commerçants de la Lozère."
        )
    else:
        intro = (
            "Touchez le bouton pour confirmer la désinscription de ce numéro\u00a0: il ne "
            "recevra plus les alertes du réseau Alerte Message."
        )
    body = "\n".join((
        f"<h1>{escape(title, quote=False)}</h1>",
        f"<p>{escape(intro, quote=False)}</p>",
        f'<form method="post" action="{PATH}">',
        f'<input type="hidden" name="jeton" value="{escape(token)}">',
        f'<button type="submit">Je confirme {escape(_WHAT[kind], quote=False)}</button>',
        "</form>",
        f"<p>{escape(WITHOUT_ANSWER[kind], quote=False)} Ce bouton évite qu’un aperçu "
        "automatique du lien, dans une messagerie, confirme à votre place.</p>",
    ))
    html = pages.shell_page(site_dir, title, body)
    return Response(200, html.encode("utf-8"), headers=HEADERS)


def _used(used: Callable[[], bool]) -> bool:
    try:
        return used()
    except AlerteError as exc:  # the register does not answer: the button still works later
        log.warning("Confirmation : registre illisible (%s).", mask_numbers(exc.message))
        return False


def confirm(
    site_dir: Path,
    form: Mapping[str, str],
    *,
    register: Callable[[], Register],
    secret: bytes,
    now: datetime,
) -> Response:
    """`POST /confirmer`: confirm the request, once."""
    token = str(form.get("jeton", ""))[: MAX_TOKEN_LENGTH + 1]
    if not token:
        return show(site_dir, "", secret, now)
    try:
        result = confirm_token(register(), token, secret=secret, now=now)
    except AlerteError as exc:
        log.warning("Confirmation impossible : registre indisponible (%s).",
                    mask_numbers(exc.message))
        return _page(site_dir, 503, "Service momentanément indisponible", [
            "Le registre ne répond pas pour l’instant\u00a0: rien n’a été confirmé.",
            "Réessayez dans quelques minutes avec le même lien\u202f; il reste valable.",
        ])
    log.info("Confirmation : %s (%s).", result.outcome.value, result.kind or "?")
    return answer(site_dir, result)


def answer(site_dir: Path, result: ConfirmResult) -> Response:
    kind = result.kind or INSCRIPTION
    form = _FORMS[kind]
    if result.outcome is Outcome.CONFIRMED:
        if kind == INSCRIPTION:
            return _page(site_dir, 200, "Inscription confirmée", [
                "Merci\u00a0: votre numéro est confirmé. Il rejoint la liste de diffusion dans "
                "les minutes qui viennent, et recevra les alertes des commerçants de la Lozère.",
                "Vous pourrez vous désinscrire à tout moment depuis le site.",
            ])
        return _page(site_dir, 200, "Désinscription confirmée", [
            "Votre numéro est retiré de la liste de diffusion dans les minutes qui viennent\u00a0:"
            " il ne recevra plus d’alerte.",
            "Vous pourrez vous réinscrire quand vous le voudrez.",
        ])
    if result.outcome is Outcome.ALREADY:
        return _page(site_dir, 409, "Lien déjà utilisé", [
            f"Ce lien de confirmation a déjà servi\u00a0: {_WHAT[kind]} était déjà confirmée, "
            "rien n’a été changé.",
        ])
    if result.outcome is Outcome.EXPIRED:
        return _page(site_dir, 410, "Lien expiré", [
            f"Ce lien de confirmation a expiré\u00a0: {_WHAT[kind]} n’a pas été confirmée et "
            "rien n’a été changé.",
            "Remplissez de nouveau le formulaire\u00a0: un nouveau message de confirmation vous "
            "sera envoyé.",
        ], links=[(form, "Remplir le formulaire"), *pages.HOME_LINKS])
    if result.outcome is Outcome.UNKNOWN:
        return _page(site_dir, 410, "Demande introuvable", [
            "Cette demande n’est plus dans le registre (le numéro a pu être corrigé par la CMA)"
            "\u00a0: rien n’a été changé.",
            "Remplissez de nouveau le formulaire pour recevoir un nouveau message.",
        ], links=[(form, "Remplir le formulaire"), *pages.HOME_LINKS])
    return _page(site_dir, 400, "Lien non valable", [
        "Ce lien de confirmation n’est pas valable\u00a0: il a peut-être été coupé ou mal "
        "recopié. Rien n’a été changé.",
        "Ouvrez-le de nouveau depuis le message reçu, en entier.",
    ])
