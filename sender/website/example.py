"""The example alert of « Comment ça marche », composed at build time by the sender's own code.

A fictitious `Alertes` row goes through the same checks (`check_alert`) and the same default
templates (`default_template_rows`, `Composer`) as a real alert, so the page always shows the
message members actually receive, on WhatsApp and by SMS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from sender.alerts.compose import Composer
from sender.alerts.officers import active_officers
from sender.alerts.rules import check_alert
from sender.dates import parse_datetime
from sender.errors import ConfigurationError
from sender.register.defaults import default_template_rows, whatsapp_text

EXAMPLE_ROW: dict[str, str] = {
    "id": "exemple",
    "service": "Gendarmerie, brigade de Marvejols",
    "agent": "EXEMPLE",
    "type": "escroquerie",
    "precision": "rendez-moi",
    "faits_le": "12/03/2026 10:40",
    "signale_le": "12/03/2026 10:55",
    "commune": "Marvejols",
    "lieu": "centre-ville",
    "description": "Un client paie avec un billet de 50 euros puis change plusieurs fois d’avis "
    "pendant le rendu de monnaie pour semer la confusion",
    "auteurs": "un homme d’environ 30 ans, blouson gris, parti à pied vers la gare",
    "statut": "à diffuser",
}


@dataclass(frozen=True, slots=True)
class ExampleMessages:
    whatsapp: str
    sms: str


def example_messages(row: dict[str, str] | None = None) -> ExampleMessages:
    """The WhatsApp message and the SMS a member would receive for the example alert."""
    row = dict(EXAMPLE_ROW if row is None else row)
    reported = parse_datetime(row["signale_le"])
    now = (reported or datetime.now().astimezone()) + timedelta(minutes=5)
    officers = active_officers([{"identifiant": row["agent"], "actif": "oui"}])
    verdict = check_alert(row, officers=officers, now=now)
    if verdict.alert is None:
        raise ConfigurationError(f"Alerte d'exemple refusée par les règles : {verdict.motif}")
    composer = Composer(default_template_rows())
    whatsapp = composer.compose(verdict.alert, "whatsapp")
    text = whatsapp_text(whatsapp.template or "", whatsapp.parameters)
    if text is None:
        raise ConfigurationError(
            f"Modèle WhatsApp « {whatsapp.template} » sans texte approuvé connu."
        )
    sms = composer.compose(verdict.alert, "sms")
    return ExampleMessages(text, sms.text)


def _bubble(text: str) -> str:
    return "<br>\n".join(escape(line) for line in text.splitlines())


def example_html(messages: ExampleMessages) -> str:
    """Both messages, side by side on a wide screen, one under the other on a phone."""
    return (
        '<div class="exemples">\n'
        '<figure class="message">\n'
        "<figcaption>Sur WhatsApp</figcaption>\n"
        f'<p class="bulle">{_bubble(messages.whatsapp)}</p>\n'
        "</figure>\n"
        '<figure class="message">\n'
        "<figcaption>Par SMS, si le mobile n’a pas WhatsApp</figcaption>\n"
        f'<p class="bulle">{_bubble(messages.sms)}</p>\n'
        "</figure>\n"
        "</div>"
    )
