"""Markers in the site's Markdown replaced at build time by what the code knows.

A page writes `[[cma:telephone]]` for one of the CMA's details, `[[duree:traces]]` for a
retention period (`durations.py`: from the settings the software applies) and
`[[bloc:contact]]`, alone on its line, for a whole block. The theme applies the `blocs` Jinja
filter (`Blocks`) to every page's content; an unknown marker stops the build rather than reach
a visitor.

Blocks: `contact` (the CMA's contact details), `types-alerte` (the alert types with their
pictograms), `exemple-alerte` (the real message format, see `example.py`) and `chiffres` (the
page « Le réseau en chiffres », from the figures file).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from html import escape

from sender.config import Settings
from sender.dates import DateError, parse_datetime
from sender.errors import ConfigurationError
from sender.reporting.charts import statistics_sections
from sender.text import written_day_and_hour
from sender.website.details import BY_KEY
from sender.website.durations import durations as stated_durations
from sender.website.example import example_html, example_messages
from sender.website.pictograms import pictogram

_BLOCK = re.compile(r"<p>\s*\[\[bloc:([a-z-]+)\]\]\s*</p>")
_MARKER = re.compile(r"\[\[(cma|bloc|duree):([a-z_-]+)\]\]")
_NOT_TEL = re.compile(r"[^\d+]")

ALERT_TYPES_TEXT: tuple[tuple[str, str, str], ...] = (
    ("vol", "Vol", "vol à l’étalage, vol de caisse, vol à l’arraché…"),
    ("agression", "Agression", "violences ou menaces contre une personne du commerce"),
    ("cambriolage", "Cambriolage", "local forcé, de nuit comme de jour"),
    ("escroquerie", "Escroquerie", "faux moyen de paiement (faux billet, chèque volé, fausse "
     "preuve de virement), « fausse qualité » (faux agent, faux technicien, faux fournisseur), "
     "« rendez-moi » au moment de rendre la monnaie"),
    ("prévention", "Prévention", "conseils et mises en garde des forces de l’ordre, sans lien "
     "avec un fait précis"),
)


def missing_mark(key: str) -> str:
    """What the development build shows for a missing detail (never the production build)."""
    label = BY_KEY[key].label
    return f'<span class="a-fournir">[{escape(label)} : à fournir par la CMA]</span>'


def detail_html(details: Mapping[str, str], key: str) -> str:
    if key not in BY_KEY:
        raise ConfigurationError(
            f"Marqueur [[cma:{key}]] inconnu (rubriques possibles : {', '.join(BY_KEY)})."
        )
    value = details.get(key, "")
    if not value:
        return missing_mark(key)
    if key == "courriel":
        return f'<a href="mailto:{escape(value)}">{escape(value)}</a>'
    if key == "telephone":
        return f'<a href="tel:{escape(_NOT_TEL.sub("", value))}">{escape(value)}</a>'
    return "<br>".join(escape(line.strip()) for line in value.splitlines() if line.strip())


def contact_html(details: Mapping[str, str]) -> str:
    return (
        '<address class="contact">\n'
        "<strong>Chambre de Métiers et de l’Artisanat de la Lozère</strong><br>\n"
        f"{detail_html(details, 'adresse')}<br>\n"
        f"Téléphone&#8239;: {detail_html(details, 'telephone')}<br>\n"
        f"Courriel&#8239;: {detail_html(details, 'courriel')}\n"
        "</address>"
    )


def alert_types_html() -> str:
    items = "\n".join(
        f'<li>{pictogram(name, 36)}<span><strong>{label}</strong> : {escape(text)}</span></li>'
        for name, label, text in ALERT_TYPES_TEXT
    )
    return f'<ul class="types-alerte">\n{items}\n</ul>'


def _made_at(figures: Mapping[str, object]) -> str:
    """When the figures were made, « 04/12/2026 à 14 h 52 »; the text as written otherwise."""
    text = str(figures.get("produit_le", ""))
    try:
        moment = parse_datetime(text)
    except DateError:
        return text
    return written_day_and_hour(moment) if moment else text


def figures_html(figures: Mapping[str, object] | None) -> str:
    if figures is None:
        return (
            '<p class="encadre">Pas encore de chiffres publiés : la CMA les met à jour '
            "régulièrement à partir de la liste des adhérents et des alertes diffusées.</p>"
        )
    return (
        f'<p class="date">Chiffres arrêtés le {escape(_made_at(figures))}.</p>\n'
        + statistics_sections(figures, level=2)
    )


class Blocks:
    """The `blocs` Jinja filter: replaces every marker of a page's HTML."""

    def __init__(
        self,
        details: Mapping[str, str],
        figures: Mapping[str, object] | None = None,
        durations: Mapping[str, str] | None = None,
    ) -> None:
        self.details = dict(details)
        self.figures = figures
        self.durations = dict(durations if durations is not None else stated_durations(Settings()))
        self._blocks: dict[str, Callable[[], str]] = {
            "contact": lambda: contact_html(self.details),
            "types-alerte": alert_types_html,
            "exemple-alerte": lambda: example_html(example_messages()),
            "chiffres": lambda: figures_html(self.figures),
        }
        self._cache: dict[str, str] = {}

    def block(self, name: str) -> str:
        if name not in self._blocks:
            raise ConfigurationError(
                f"Bloc [[bloc:{name}]] inconnu (blocs possibles : {', '.join(self._blocks)})."
            )
        if name not in self._cache:
            self._cache[name] = self._blocks[name]()
        return self._cache[name]

    def duration(self, name: str) -> str:
        """`[[duree:traces]]`: a retention period, from the settings the software applies."""
        if name not in self.durations:
            raise ConfigurationError(
                f"Marqueur [[duree:{name}]] inconnu (durées possibles : "
                f"{', '.join(self.durations)})."
            )
        return f'<span class="duree" data-duree="{name}">{escape(self.durations[name])}</span>'

    def __call__(self, html: object) -> str:
        text = str(html or "")
        text = _BLOCK.sub(lambda m: self.block(m.group(1)), text)

        def marker(match: re.Match[str]) -> str:
            kind, name = match.groups()
            if kind == "duree":
                return self.duration(name)
            return self.block(name) if kind == "bloc" else detail_html(self.details, name)

        # Pelican's templates do not autoescape: the page HTML and the escaped parts go as is.
        return _MARKER.sub(marker, text)
