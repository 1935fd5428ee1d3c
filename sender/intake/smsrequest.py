"""« Je n'ai pas WhatsApp : recevoir un SMS »: the button of the thanks page, and its POST.

With reverse confirmation (the person writes to the network's WhatsApp number), nothing is sent
to a form request by itself. Someone without WhatsApp asks for a confirmation SMS with this
button: a form post (same-site only, rate-limited like the other forms, a few bytes) carrying
the request's kind and code, recorded in the journal file (`journal/asked.py`). The sender then
sends that request one SMS with its link, within the confirmation budget and the monthly SMS
ceiling (`consent/planning.py`). The code reveals nothing: it only matches a request waiting
for its confirmation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from html import escape
from pathlib import Path
from typing import Final

from sender.consent.tokens import DESINSCRIPTION, INSCRIPTION
from sender.errors import AlerteError
from sender.intake import pages
from sender.intake.responses import Response, message_response
from sender.journal.asked import SmsRequests

PATH: Final = "/demande-sms"
MARKER: Final = "<!--envoi-demande-->"  # where the thanks page (`reverse.py`) takes the button
_CODE: Final = re.compile(r"^\d{6}$")


def form_html(kind: str, code: str) -> str:
    """The button, as a form posting the request's kind and code (no JavaScript)."""
    return (
        f'<form method="post" action="{PATH}" class="demande-sms">'
        f'<input type="hidden" name="type" value="{escape(kind)}">'
        f'<input type="hidden" name="code" value="{escape(code)}">'
        "<p>Pas de WhatsApp sur ce téléphone\u00a0? Le réseau peut vous envoyer un SMS avec un "
        "lien de confirmation (un seul, dans la limite des envois du jour).</p>"
        "<button type=\"submit\">Je n’ai pas WhatsApp\u00a0: recevoir un SMS</button></form>"
    )


def with_button(response: Response, kind: str, code: str) -> Response:
    """The thanks page with the button in place of its marker."""
    body = response.body.replace(MARKER.encode(), form_html(kind, code).encode("utf-8"), 1)
    return Response(response.status, body, response.content_type, response.cache,
                    response.headers)


def record(
    site_dir: Path, form: Mapping[str, str], store: Callable[[], SmsRequests]
) -> Response:
    """Record a valid request for an SMS; French pages for every answer."""
    kind, code = form.get("type", ""), form.get("code", "")
    if kind not in (INSCRIPTION, DESINSCRIPTION) or not _CODE.match(code):
        return message_response(
            site_dir, 400, "Demande illisible",
            ["Cette demande de SMS n’a pas pu être lue. Revenez à la page de votre demande, "
             "ou remplissez de nouveau le formulaire."],
            links=pages.HOME_LINKS,
        )
    try:
        store().ask(kind, code)
    except AlerteError as error:
        return message_response(
            site_dir, 503, "Demande non enregistrée",
            [error.message if error.retryable else
             "La demande de SMS n’a pas pu être enregistrée\u00a0: réessayez plus tard."],
            links=pages.HOME_LINKS, headers=[("Retry-After", "300")],
        )
    return message_response(
        site_dir, 200, "Demande de SMS enregistrée",
        ["Vous recevrez un SMS avec un lien de confirmation sur le numéro indiqué dans le "
         "formulaire, dès que possible (les envois sont limités chaque jour). Ouvrez le lien et "
         "appuyez sur le bouton de la page pour confirmer.",
         "Si rien n’arrive d’ici demain, vérifiez le numéro et remplissez de nouveau le "
         "formulaire."],
        links=pages.HOME_LINKS,
    )
