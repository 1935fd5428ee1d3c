"""Accessible bar charts in inline SVG, each followed by its data table; no script, no library.

Bars are drawn in percentages of the chart's width and text in CSS pixels, so a chart fills a
360 px phone as well as a wide screen without shrinking its text. Each SVG is an image named by
its `<title>` and described by a `<desc>` that lists every value; the same values follow in a
table. Colours come from CSS classes (`CHART_CSS`, copied in the site's stylesheet), never from
`style` attributes, which the site's Content-Security-Policy blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from html import escape

from sender.text import day, plural, thousands

ROW_HEIGHT = 46
LONGEST_BAR = 80  # % of the width: room is left for the value after the longest bar

CHART_CSS = (
    ".graphique{margin:1.5rem 0}"
    ".graphique figcaption{font-weight:700;margin-bottom:.4rem}"
    ".barres{display:block;overflow:visible}"
    ".barres text{font-size:15px;fill:currentColor}"
    ".barres .barre{fill:#163a6b}"
    ".barres .valeur{font-weight:700}"
    ".donnees summary{cursor:pointer}"
    ".donnees table{margin:.5rem 0}"
    ".donnees td:last-child{text-align:right}"
    # On paper the data tables are printed open, without their « Les données en tableau » line.
    "@media print{.donnees::details-content{content-visibility:visible;display:contents}"
    ".donnees summary{display:none}.barres{break-inside:avoid}figcaption{break-after:avoid}}"
)


def _chart_label(label: str) -> str:
    """The label drawn next to a bar: without its parenthesis, which the table keeps."""
    return label.split(" (")[0] if " (" in label else label


def bar_chart(
    ident: str,
    title: str,
    rows: Sequence[tuple[str, int]],
    *,
    column: str,
    unit: tuple[str, str],
) -> str:
    """One `<figure>`: caption, SVG bars and the table of the same values.

    `ident` makes the element ids unique in the page; `unit` is (singular, plural), e.g.
    ("adhérent", "adhérents").
    """
    largest = max((count for _, count in rows), default=0)
    height = ROW_HEIGHT * len(rows) + 4
    described = " ; ".join(f"{label} : {plural(count, *unit)}" for label, count in rows)
    parts = [
        f'<figure class="graphique" id="{ident}">',
        f"<figcaption>{escape(title)}</figcaption>",
        f'<svg class="barres" width="100%" height="{height}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" focusable="false">',
        f'<title id="{ident}-t">{escape(title)}</title>',
        f'<desc id="{ident}-d">{escape(described)}.</desc>',
    ]
    for index, (label, count) in enumerate(rows):
        top = index * ROW_HEIGHT
        width = round(count / largest * LONGEST_BAR, 2) if largest else 0
        parts.append(f'<text x="0" y="{top + 15}">{escape(_chart_label(label))}</text>')
        if count:
            parts.append(
                f'<rect class="barre" x="0" y="{top + 21}" width="{width}%" height="18" rx="2"/>'
            )
        parts.append(
            f'<text class="valeur" x="{width}%" dx="{6 if count else 0}" y="{top + 35}">'
            f"{thousands(count)}</text>"
        )
    parts.append("</svg>")
    parts.append('<details class="donnees"><summary>Les données en tableau</summary>')
    parts.append(f"<table><caption>{escape(title)}</caption>")
    parts.append(
        f'<thead><tr><th scope="col">{escape(column)}</th>'
        f'<th scope="col">{escape(unit[1].capitalize())}</th></tr></thead><tbody>'
    )
    for label, count in rows:
        parts.append(f'<tr><th scope="row">{escape(label)}</th><td>{thousands(count)}</td></tr>')
    parts.append("</tbody></table></details></figure>")
    return "\n".join(parts)


def _rows(breakdown: object) -> list[tuple[str, int]]:
    groups = breakdown.get("groupes", []) if isinstance(breakdown, Mapping) else []
    return [(str(g["libelle"]), int(g["nombre"])) for g in groups]


def _merged(breakdown: object) -> int:
    return int(breakdown.get("regroupes", 0)) if isinstance(breakdown, Mapping) else 0


def _hidden(breakdown: object) -> bool:
    return bool(breakdown.get("masque")) if isinstance(breakdown, Mapping) else False


def statistics_sections(document: Mapping[str, object], *, level: int = 2, prefix: str = "") -> str:
    """The members and alerts sections of a figures document (see `aggregate.statistics`)."""
    members = document.get("adherents")
    alerts = document.get("alertes")
    members = members if isinstance(members, Mapping) else {}
    alerts = alerts if isinstance(alerts, Mapping) else {}
    threshold = int(document.get("seuil", 5))  # type: ignore[call-overload]
    h = f"h{level}"
    out = [f"<{h}>Les adhérents</{h}>"]
    total = members.get("total")
    if isinstance(total, int):
        out.append(
            f"<p>{escape(plural(total, 'adhérent actif', 'adhérents actifs'))} "
            "reçoivent les alertes.</p>"
        )
    people = (
        ("par_zone", "Adhérents par zone", "Zone", ("zone", "zones"), "Autres zones"),
        ("par_activite", "Adhérents par activité", "Activité", ("activité", "activités"),
         "Autres"),
    )
    notes = []
    for key, title, column, what, others in people:
        breakdown = members.get(key)
        rows = _rows(breakdown)
        if rows:
            out.append(
                bar_chart(f"{prefix}{key}", title, rows, column=column,
                          unit=("adhérent", "adhérents"))
            )
        elif _hidden(breakdown):
            out.append(f"<p>{escape(title)} : moins de {threshold} adhérents, non montré.</p>")
        else:
            out.append(f"<p>{escape(title)} : aucun adhérent actif pour le moment.</p>")
        merged = _merged(breakdown)
        if merged:
            verb = "sont regroupées" if merged > 1 else "est regroupée"
            notes.append(f"{plural(merged, *what)} {verb} dans « {others} »")
    out.append(
        f'<p class="note">Pour protéger la vie privée, aucun groupe de moins de {threshold} '
        "personnes n’est montré : les petits groupes sont réunis dans « Autres »"
        + (f" ({escape(' ; '.join(notes))})" if notes else "")
        + ".</p>"
    )
    out.append(f"<{h}>Les alertes diffusées</{h}>")
    first, last = str(alerts.get("du", "")), str(alerts.get("au", ""))
    count = alerts.get("total")
    if isinstance(count, int) and first and last:
        out.append(
            f"<p>{escape(plural(count, 'alerte diffusée', 'alertes diffusées'))} "
            f"du {day_text(first)} au {day_text(last)}, messages de prévention compris.</p>"
        )
    for key, title, column in (
        ("par_type", "Alertes diffusées par type", "Type"),
        ("par_mois", "Alertes diffusées par mois", "Mois"),
    ):
        rows = _rows(alerts.get(key))
        if any(number for _, number in rows):
            out.append(
                bar_chart(f"{prefix}{key}", title, rows, column=column,
                          unit=("alerte", "alertes"))
            )
        elif rows:  # a chart of empty rows says nothing: one sentence instead
            out.append(f"<p>{escape(title)} : aucune alerte diffusée sur la période.</p>")
    out.append(
        '<p class="note">Une alerte est un événement, pas une personne : les alertes sont '
        "comptées exactement, sans regroupement.</p>"
    )
    return "\n".join(out)


def day_text(iso: str) -> str:
    """`2026-11-30` → `30/11/2026`; the text unchanged when it is not such a date."""
    try:
        return day(date.fromisoformat(iso))
    except ValueError:
        return escape(iso)
