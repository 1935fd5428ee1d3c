"""Default rows written by `initialiser`: message templates (tab `Modeles`).

Templates are Jinja2, rendered in a sandbox. Variables: `id`, `type` (label such as « Vol »),
`precision`, `commune`, `lieu`, `faits_le` (« 29/11/2026 à 14h05 »), `faits_heure` (« 14h05 »),
`description`, `auteurs`, `vehicule`, `service`.

For the WhatsApp channel, `texte` holds one line per named body parameter of the approved
template, `nom: expression Jinja`.
"""

from __future__ import annotations

from sender.schema import ALERT_TYPES

WHATSAPP_TEMPLATE = "alerte_commercants"
WHATSAPP_PREVENTION_TEMPLATE = "prevention_commercants"

_SMS_INCIDENT = (
    "ALERTE {{ type|upper }}{% if precision %} ({{ precision }}){% endif %} - "
    "{{ commune or lieu }}{% if lieu and commune %}, {{ lieu }}{% endif %}, {{ faits_le }}. "
    "{{ description }}"
    "{% if auteurs %} Auteur(s) : {{ auteurs }}.{% endif %}"
    "{% if vehicule %} Véhicule : {{ vehicule }}.{% endif %}"
    " Soyez vigilants. Info à signaler au 17. {{ service }}"
)
_SMS_PREVENTION = "PRÉVENTION - {{ description }} {{ service }}"

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


def default_template_rows() -> list[dict[str, str]]:
    """One SMS/outbox text and one WhatsApp template per alert type."""
    rows: list[dict[str, str]] = []
    for alert_type in ALERT_TYPES:
        prevention = alert_type == "prévention"
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
                "modele_whatsapp": WHATSAPP_PREVENTION_TEMPLATE if prevention else WHATSAPP_TEMPLATE,
                "langue": "fr",
                "texte": _WHATSAPP_PREVENTION if prevention else _WHATSAPP_INCIDENT,
            }
        )
    return rows
