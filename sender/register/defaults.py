"""Default rows written by `initialiser`: message templates (tab `Modeles`).

Templates are Jinja2, rendered in a sandbox. Variables: `id`, `type` (label such as « Vol »),
`precision`, `commune`, `lieu`, `faits_le` (« 29/11/2026 à 14h05 »), `faits_heure` (« 14h05 »),
`faits_date` (« 29/11/2026 »), `description`, `auteurs`, `vehicule`, `service`, and for a
follow-up (`suite`, `fin d'alerte`) `origine_le` (when the original went out, « 12/03 à 14 h 05 »)
and `origine` (its type and place, « vol, Mende »). Every variable is
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
from collections.abc import Iterable, Mapping

from sender.schema import ALERT_TYPES, FIN_ALERTE, SEQUEL_TYPES, SUITE
from sender.text import fold

WHATSAPP_TEMPLATE = "alerte_commercants"
WHATSAPP_PREVENTION_TEMPLATE = "prevention_commercants"
WHATSAPP_SUITE_TEMPLATE = "suite_alerte_commercants"
WHATSAPP_FIN_TEMPLATE = "fin_alerte_commercants"

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

# Follow-ups: the first words tell the member which alert they follow (see `alerts/sequel.py`).
_SMS_SEQUEL = {
    SUITE: "SUITE DE L'ALERTE du {{ origine_le }} - {{ origine }} :",
    FIN_ALERTE: "FIN D'ALERTE du {{ origine_le }} - {{ origine }} :",
}
_SMS_SEQUEL_BODY = ("{{ description|phrase }}", "{{ service }}", SIGNATURE)
_WHATSAPP_SEQUEL = "\n".join(
    (
        "origine_le: {{ origine_le }}",
        "origine: {{ origine }}",
        "nouvelles: {{ description }}",
        "service: {{ service or 'Forces de l’ordre' }}",
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
    WHATSAPP_SUITE_TEMPLATE: "\n".join(
        (
            "SUITE DE L'ALERTE du {{origine_le}} — {{origine}} :",
            "{{nouvelles}}",
            "Message de : {{service}}",
            SIGNATURE,
        )
    ),
    WHATSAPP_FIN_TEMPLATE: "\n".join(
        (
            "FIN D'ALERTE du {{origine_le}} — {{origine}} :",
            "{{nouvelles}}",
            "Message de : {{service}}",
            SIGNATURE,
        )
    ),
}
SEQUEL_TEMPLATES: dict[str, str] = {
    SUITE: WHATSAPP_SUITE_TEMPLATE,
    FIN_ALERTE: WHATSAPP_FIN_TEMPLATE,
}

_BODY_PARAMETER = re.compile(r"\{\{([a-z_][a-z0-9_]*)\}\}")


def whatsapp_text(template: str, parameters: Mapping[str, str]) -> str | None:
    """The message a member reads on WhatsApp: the approved body of `template` with its named
    parameters filled in; None for a template whose body is not one of `WHATSAPP_BODIES`."""
    body = WHATSAPP_BODIES.get(template)
    if body is None:
        return None
    return _BODY_PARAMETER.sub(lambda match: parameters.get(match.group(1), "-"), body)


def sequel_template_rows() -> list[dict[str, str]]:
    """One SMS/outbox text and one WhatsApp template per follow-up type."""
    rows: list[dict[str, str]] = []
    for sequel in SEQUEL_TYPES:
        rows.append({"type": sequel, "canal": "sms", "modele_whatsapp": "", "langue": "fr",
                     "texte": "\n".join((_SMS_SEQUEL[sequel], *_SMS_SEQUEL_BODY))})
        rows.append({"type": sequel, "canal": "whatsapp",
                     "modele_whatsapp": SEQUEL_TEMPLATES[sequel], "langue": "fr",
                     "texte": _WHATSAPP_SEQUEL})
    return rows


def missing_sequel_rows(types: Iterable[str]) -> list[dict[str, str]]:
    """The follow-up rows to add to a `Modeles` tab made before follow-ups existed (none of
    its `types` is a follow-up type); nothing when it has some already."""
    wanted = {fold(sequel) for sequel in SEQUEL_TYPES}
    if any(fold(str(typed)) in wanted for typed in types):
        return []
    return sequel_template_rows()


def default_template_rows() -> list[dict[str, str]]:
    """One SMS/outbox text and one WhatsApp template per alert type and follow-up type."""
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
    return rows + sequel_template_rows()
