"""Default rows written by `initialiser`: message templates (tab `Modeles`).

Templates are Jinja2, rendered in a sandbox. Variables: `id`, `type` (label such as « Vol »),
`precision`, `commune`, `lieu`, `faits_le` (« 29/11/2026 à 14h05 »), `faits_heure` (« 14h05 »),
`faits_date` (« 29/11/2026 »), `description`, `auteurs`, `vehicule`, `service`. Every variable is
always defined (empty text when the cell is empty), so `{% if auteurs %}` works; an unknown name is
an error reported in French. Allowed: text, variables, `{% if %}`/`elif`/`else`, `and`/`or`/`not`,
comparisons, `~`, and the filters `upper`, `lower`, `capitalize`, `title`, `trim`, `default`
(an empty value counts as missing), `truncate(n)`, `replace(a, b)`, `length`, `first`, `last`,
`wordcount`, `string` and `phrase` (adds a final full stop when missing). Loops, attributes, calls
and arithmetic are refused (see sender/alerts/sandbox.py).

For the WhatsApp channel, `texte` holds one line per named body parameter of the approved
template, `nom: expression Jinja`. The fixed body text of each template is approved by Meta, not
stored in the register: `WHATSAPP_BODIES` holds the text to submit (docs/production.md quotes
it and the site renders its example alert with it).

Every message ends with `SIGNATURE`, so that members recognise real alerts from the network.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sender.schema import ALERT_TYPES

WHATSAPP_TEMPLATE = "alerte_commercants"
WHATSAPP_PREVENTION_TEMPLATE = "prevention_commercants"

# The last line of every message, SMS and WhatsApp (GSM-7 only, so it costs no UCS-2 switch).
SIGNATURE = "Réseau Alerte Message"

# SMS texts use only GSM-7 characters of their own (é, è, à and É are GSM-7; ç, ê, « », ’ and —
# are not, hence the straight apostrophe and no guillemets): a short alert then costs 160
# characters per part, unless the officer's own text needs UCS-2.
_SMS_INCIDENT = "\n".join(
    (
        "ALERTE {{ type|upper }}{% if precision %} ({{ precision }}){% endif %}",
        "{{ commune or lieu }}{% if lieu and commune %}, {{ lieu }}{% endif %}"
        "{% if faits_le %}, le {{ faits_le }}{% endif %}.",
        "{{ description|phrase }}"
        "{% if auteurs %} Auteur(s) : {{ auteurs|phrase }}{% endif %}"
        "{% if vehicule %} Véhicule : {{ vehicule|phrase }}{% endif %}",
        "Soyez vigilants. Infos au 17.",
        "{{ service }}",
        SIGNATURE,
    )
)
_SMS_PREVENTION = "\n".join(
    (
        "PRÉVENTION{% if commune %} - {{ commune }}{% endif %}",
        "{{ description|phrase }}",
        "{{ service }}",
        SIGNATURE,
    )
)

_WHATSAPP_INCIDENT = "\n".join(
    (
        "nature: {{ type }}{% if precision %} ({{ precision }}){% endif %}",
        "lieu: {{ commune or lieu }}{% if lieu and commune %}, {{ lieu }}{% endif %}",
        "moment: {{ faits_le }}",
        "faits: {{ description }}",
        "auteurs: {{ auteurs or 'non décrits' }}"
        "{% if vehicule %} ; véhicule : {{ vehicule }}{% endif %}",
        "service: {{ service or 'Forces de l’ordre' }}",
    )
)
_WHATSAPP_PREVENTION = "\n".join(
    ("message: {{ description }}", "service: {{ service or 'Forces de l’ordre' }}")
)

# The body text submitted to Meta for approval, with the named parameters above. Meta refuses a
# body that starts or ends with a parameter: the fixed first line and the signature frame them.
WHATSAPP_BODIES: dict[str, str] = {
    WHATSAPP_TEMPLATE: "\n".join(
        (
            "ALERTE : {{nature}}",
            "Lieu : {{lieu}}",
            "Moment : {{moment}}",
            "Faits : {{faits}}",
            "Auteurs : {{auteurs}}",
            "Soyez vigilants. Ne répondez pas à ce message : tout renseignement au 17.",
            "Message de : {{service}}",
            SIGNATURE,
        )
    ),
    WHATSAPP_PREVENTION_TEMPLATE: "\n".join(
        (
            "PRÉVENTION",
            "{{message}}",
            "Message de : {{service}}",
            SIGNATURE,
        )
    ),
}

_BODY_PARAMETER = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}")


def whatsapp_text(template: str, parameters: Mapping[str, str]) -> str | None:
    """The message a member reads on WhatsApp: the approved body of `template` with its named
    parameters filled in; None for a template whose body is not one of `WHATSAPP_BODIES`."""
    body = WHATSAPP_BODIES.get(template)
    if body is None:
        return None
    return _BODY_PARAMETER.sub(lambda match: parameters.get(match.group(1), "-"), body)


def default_template_rows() -> list[dict[str, str]]:
    """One SMS/outbox text and one WhatsApp template per alert type."""
    rows: list[dict[str, str]] = []
    for alert_type in ALERT_TYPES:
        prevention = alert_type == "prévention"
        whatsapp_name = WHATSAPP_PREVENTION_TEMPLATE if prevention else WHATSAPP_TEMPLATE
        rows.append(
            {
                "type": alert_type,
                "canal": "sms",
                "modele_whatsapp": "",
                "langue": "fr",
                "texte": _SMS_PREVENTION if prevention else _SMS_INCIDENT,
            }
        )
        rows.append(
            {
                "type": alert_type,
                "canal": "whatsapp",
                "modele_whatsapp": whatsapp_name,
                "langue": "fr",
                "texte": _WHATSAPP_PREVENTION if prevention else _WHATSAPP_INCIDENT,
            }
        )
    return rows
