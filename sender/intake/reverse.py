"""The page after a form request when people confirm by writing to the network's WhatsApp number.

With `WHATSAPP_NUMERO_PUBLIC` set (and WhatsApp as channel), a stored form request is answered
`303` to its thanks page with the request's code in the query (`?code=487421`); that page shows
a click-to-chat link that opens WhatsApp with « INSCRIPTION 48-7421 » already typed, and the
same link as a QR code for people who filled the form on a computer. Nothing is sent to the
person: their message is the confirmation (`conversation.inbox`).

The code in the address reveals nothing: it only works when sent from the number it was made
for (`consent.codes`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

from sender.consent.codes import prefilled_text, request_code, shown
from sender.consent.tokens import DESINSCRIPTION, INSCRIPTION
from sender.dates import parse_datetime
from sender.domain.clicktochat import display_number, link_block
from sender.domain.phones import parse_phone
from sender.intake import pages
from sender.intake.responses import Response
from sender.schema import INSCRIPTIONS

_CODE: Final = re.compile(r"^\d{6}$")
# Where the « Je n'ai pas WhatsApp : recevoir un SMS » button goes (outbound on request).
OUTBOUND_MARKER: Final = "<!--envoi-demande-->"


def kind_of(tab: str) -> str:
    return INSCRIPTION if tab == INSCRIPTIONS else DESINSCRIPTION


def code_of_row(secret: bytes, tab: str, row: Mapping[str, str]) -> str | None:
    """The code of a request row just stored (None when its number or time cannot be read)."""
    numero = parse_phone(row.get("telephone", "")).numero
    made = parse_datetime(row.get("horodatage", ""))
    if numero is None or made is None:
        return None
    return request_code(secret, kind_of(tab), numero, made)


def code_of_query(environ: Mapping[str, Any]) -> str | None:
    query = str(environ.get("QUERY_STRING", "") or "")[:200]
    code = dict(parse_qsl(query, max_num_fields=5)).get("code", "")
    return code if _CODE.match(code) else None


_TEXTS: Final = {
    INSCRIPTION: (
        "Dernière étape\u00a0: confirmez votre inscription depuis WhatsApp",
        "Votre demande d’inscription est enregistrée. Pour l’activer, envoyez depuis le "
        "mobile indiqué dans le formulaire le message «\u00a0{text}\u00a0» au numéro WhatsApp "
        "du réseau, {number}.",
        "Votre inscription est active dès que votre message est reçu\u00a0; une réponse vous "
        "le confirme dans WhatsApp. Sans ce message, vous ne recevrez aucune alerte.",
    ),
    DESINSCRIPTION: (
        "Dernière étape\u00a0: confirmez votre désinscription depuis WhatsApp",
        "Votre demande de désinscription est enregistrée. Pour l’appliquer, envoyez depuis le "
        "mobile concerné le message «\u00a0{text}\u00a0» au numéro WhatsApp du réseau, "
        "{number}.",
        "La désinscription s’applique dès que votre message est reçu\u00a0; une réponse vous "
        "le confirme dans WhatsApp.",
    ),
}


def page_body(kind: str, code: str, number: str) -> tuple[str, str]:
    """(title, HTML) of the page: the steps, the link and its QR code."""
    text = prefilled_text(kind, code)
    title, intro, outcome = _TEXTS[kind]
    block = link_block(
        number, text, label="Ouvrir WhatsApp avec le message prêt à envoyer",
        title=f"Code QR\u00a0: ouvre WhatsApp avec le message «\u00a0{text}\u00a0»",
    )
    parts = [
        f"<h1>{escape(title, quote=False)}</h1>",
        "<p>" + escape(intro.format(text=text, number=display_number(number)), quote=False)
        + "</p>",
        "<p><strong>Sur ce téléphone</strong>\u00a0: touchez le bouton, WhatsApp s’ouvre avec "
        "le message déjà écrit\u00a0; appuyez sur Envoyer. <strong>Sur un ordinateur</strong>"
        "\u00a0: scannez le code QR avec l’appareil photo du téléphone.</p>",
        block,
        f'<p>Votre code\u00a0: <strong class="code">{escape(shown(code))}</strong>. Il ne '
        "fonctionne que depuis le numéro indiqué dans le formulaire et expire avec la "
        "demande.</p>",
        f"<p>{escape(outcome, quote=False)}</p>",
        OUTBOUND_MARKER,
        '<p><a href="/">Revenir à l’accueil</a></p>',
    ]
    return title, "\n".join(parts)


def thanks_page(site_dir: Path, kind: str, code: str, number: str) -> Response:
    """The thanks page of a request confirmed by writing to WhatsApp (never cached: it holds
    the person's code)."""
    title, body = page_body(kind, code, number)
    html = pages.shell_page(site_dir, title, body)
    return Response(200, html.encode("utf-8"), cache="no-store")
