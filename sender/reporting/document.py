"""The report to the préfecture as ONE self-contained HTML file: inline CSS and SVG, no script,
no external asset, readable on a phone, on a screen and on paper."""

from __future__ import annotations

from html import escape

from sender.reporting.charts import CHART_CSS, statistics_sections
from sender.reporting.report import NOT_AVAILABLE, NOT_MEASURED, AlertLine, Report
from sender.text import day, plural, written_day_and_hour

PARTNERS = (
    "Chambre de Métiers et de l’Artisanat de la Lozère · Police nationale · "
    "Gendarmerie nationale · Préfecture de la Lozère"
)

REPORT_CSS = (
    "*,*::before,*::after{box-sizing:border-box}"
    "body{margin:0;font:1rem/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;"
    "color:#1b1b1b;background:#fff}"
    ".entete{background:#163a6b;color:#fff;padding:.8rem 1rem}"
    ".entete p{margin:0;max-width:72rem;margin:0 auto}"
    ".marque{font-size:1.4rem;font-weight:800}"
    "main{display:block;max-width:72rem;margin:0 auto;padding:0 1rem 2rem}"
    "h1,h2{color:#163a6b;line-height:1.25}"
    "h1{font-size:1.7rem}"
    "h2{font-size:1.3rem;margin-top:2rem;border-bottom:2px solid #163a6b;padding-bottom:.2rem}"
    "table{border-collapse:collapse;margin:.5rem 0;font-size:.95rem}"
    "caption{text-align:left;font-weight:700;padding:.3rem 0}"
    "th,td{border:1px solid #c5cad3;padding:.35rem .5rem;text-align:left;vertical-align:top}"
    "thead th{background:#eef1f6}"
    ".tableau{overflow-x:auto;max-width:100%}"
    ".tableau table{min-width:52rem}"
    ".titre-tableau{font-weight:700;margin:1rem 0 .3rem}"
    ".tableau:focus-visible{outline:3px solid #0a4a9e;outline-offset:2px}"
    ".nombre{text-align:right}"
    ".note{color:#4a4f57}"
    ".vh{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);"
    "white-space:nowrap}"
    # Paper, A4 landscape: every column fits the page (smaller text, cells that wrap), a row
    # never splits across two pages, and the header row repeats on each page.
    "@media print{.entete{background:none;color:#000;border-bottom:2px solid #000}"
    "main{max-width:none;padding:0}"
    ".tableau{overflow:visible}"
    ".tableau table{min-width:0;width:100%;font-size:.72rem;line-height:1.3}"
    ".tableau th,.tableau td{padding:.2rem .3rem;overflow-wrap:break-word}"
    "thead{display:table-header-group}tr{break-inside:avoid}"
    "h2,.titre-tableau{break-after:avoid}}"
    "@page{size:A4 landscape;margin:12mm}"
    + CHART_CSS
)

_BROADCAST_COLUMNS = (
    ("N°", False), ("Signalée le", False), ("Type", False), ("Commune", False),
    ("Faits → signalement", True), ("Signalement → 1er message", True),
    ("Signalement → dernier message", True), ("Destinataires", True), ("Envoyés", True),
    ("Échecs", True), ("Remis", True), ("Lus", True), ("Statut", False),
)


def _table(ident: str, caption: str, headers: tuple[tuple[str, bool], ...],
           rows: list[list[str]]) -> str:
    """A table in a keyboard-scrollable region, so a phone never scrolls the whole page."""
    head = "".join(f'<th scope="col">{escape(text)}</th>' for text, _ in headers)
    body = []
    for cells in rows:
        tds = []
        for index, (value, (_, numeric)) in enumerate(zip(cells, headers, strict=True)):
            if index == 0:
                tds.append(f'<th scope="row">{escape(value)}</th>')
            else:
                css = ' class="nombre"' if numeric else ""
                tds.append(f"<td{css}>{escape(value)}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    # The title stays outside the scrolling region, so a phone always shows it whole.
    return (
        f'<p class="titre-tableau" id="{ident}">{escape(caption)}</p>'
        f'<div class="tableau" role="region" tabindex="0" aria-labelledby="{ident}">'
        f'<table aria-labelledby="{ident}">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def _broadcast_row(line: AlertLine) -> list[str]:
    return [
        line.alert_id, line.moment, line.type_label, line.commune, line.facts_to_report,
        line.report_to_first, line.report_to_last, line.recipients, line.sent, line.failed,
        line.delivered, line.read, line.status,
    ]


def render_report(report: Report) -> str:
    """The whole HTML document: head, summary and figures, the alerts broadcast and refused,
    where the figures come from."""
    period = f"du {day(report.first)} au {day(report.last)}"
    parts = [
        *_head(f"Alerte Message – rapport d’activité {period}"),
        *_summary(report, period),
        statistics_sections(report.figures, level=2, prefix="rapport-"),
        *_alert_tables(report, period),
        "<h2>D’où viennent ces chiffres</h2>",
        "<ul class=\"note\">" + "".join(f"<li>{escape(n)}</li>" for n in _sources(report))
        + "</ul>",
        f'<p class="note">Document produit le {escape(day(report.made_at))} par le logiciel '
        "Alerte Message de la CMA de la Lozère.</p>",
        "</main>", "</body>", "</html>", "",
    ]
    return "\n".join(parts)


def _head(title: str) -> list[str]:
    """From the doctype to the opening of `<main>`: metadata, inline CSS, the banner."""
    return [
        "<!DOCTYPE html>",
        '<html lang="fr">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title>",
        f"<style>{REPORT_CSS}</style>",
        "</head>",
        "<body>",
        '<header class="entete">',
        '<p class="marque">Alerte Message</p>',
        f"<p>{escape(PARTNERS)}</p>",
        "</header>",
        "<main>",
    ]


def _summary(report: Report, period: str) -> list[str]:
    """The title, who made the report from what, and the figures « En bref »."""
    prevention = sum(1 for line in report.broadcast if line.type_label == "Prévention")
    sequels = sum(1 for line in report.broadcast if " de l’alerte n° " in line.type_label)
    summary = [
        f"{plural(len(report.broadcast), 'alerte diffusée', 'alertes diffusées')}"
        f" (dont {plural(prevention, 'message', 'messages')} de prévention"
        f" et {plural(sequels, 'suite', 'suites')} d’alertes déjà diffusées)",
        plural(len(report.refused), "alerte refusée", "alertes refusées"),
        plural(len(report.cancelled), "alerte annulée", "alertes annulées"),
        *(f"{label} : {value}" for label, value in report.medians),
    ]
    return [
        f"<h1>Rapport d’activité du réseau, {escape(period)}</h1>",
        f"<p>Établi le {escape(written_day_and_hour(report.made_at))} par la CMA de la Lozère "
        "pour la Préfecture de la Lozère, à partir du registre des adhérents et des alertes "
        "et du journal des envois.</p>",
        "<h2>En bref</h2>",
        "<ul>" + "".join(f"<li>{escape(item)}</li>" for item in summary) + "</ul>",
    ]


def _alert_tables(report: Report, period: str) -> list[str]:
    """The alerts broadcast, one row each with its delays, then the alerts refused."""
    parts = ["<h2>Détail des alertes diffusées</h2>"]
    if report.broadcast:
        parts.append(
            _table(
                "tableau-diffusees",
                f"Alertes diffusées {period}, par date de signalement",
                _BROADCAST_COLUMNS,
                [_broadcast_row(line) for line in report.broadcast],
            )
        )
    else:
        parts.append("<p>Aucune alerte diffusée sur la période.</p>")
    parts.append("<h2>Alertes refusées</h2>")
    if report.refused:
        parts.append(
            _table(
                "tableau-refusees",
                f"Alertes refusées {period}, avec leur motif",
                (("N°", False), ("Signalée le", False), ("Type", False), ("Commune", False),
                 ("Motif du refus", False)),
                [[line.alert_id, line.moment, line.type_label, line.commune, line.motif]
                 for line in report.refused],
            )
        )
    else:
        parts.append("<p>Aucune alerte refusée sur la période.</p>")
    parts.append("<h2>Alertes annulées</h2>")
    if report.cancelled:
        parts.append(
            _table(
                "tableau-annulees",
                f"Alertes annulées {period}, avec les messages partis avant l’annulation",
                (("N°", False), ("Signalée le", False), ("Type", False), ("Commune", False),
                 ("Destinataires", True), ("Envoyés avant l’annulation", True),
                 ("Motif", False)),
                [[line.alert_id, line.moment, line.type_label, line.commune, line.recipients,
                  line.sent, line.motif] for line in report.cancelled],
            )
        )
    else:
        parts.append("<p>Aucune alerte annulée sur la période.</p>")
    return parts


def _sources(report: Report) -> list[str]:
    """The notes on where the figures come from and what they do not say."""
    notes = [
        "« Envoyés » compte les messages acceptés par WhatsApp ou par l’opérateur SMS : "
        "accepté ne veut pas dire remis sur le téléphone.",
        "Les délais vont de l’heure à laquelle les faits ont été signalés aux forces de "
        "l’ordre à l’heure où le premier puis le dernier message ont été acceptés, d’après le "
        "journal des envois.",
        "Un message de prévention ne fait suite à aucun signalement : ses délais, comptés "
        "depuis l’heure où il a été saisi dans le tableau des alertes, figurent dans le détail "
        "mais pas dans les délais médians.",
    ]
    if not report.journal_used:
        notes.append(
            f"Le journal des envois n’était pas disponible : les délais d’envoi sont "
            f"« {NOT_MEASURED} »."
        )
    else:
        notes.append(
            f"« {NOT_MEASURED} » : le journal des envois n’a pas d’heure d’envoi pour cette "
            "alerte (alerte diffusée avant la mise en service du journal, ou depuis un autre "
            "poste)."
        )
    if report.delivery_columns:
        notes.append(
            "« Remis » et « Lus » viennent des accusés de WhatsApp reçus par l’expéditeur ; "
            f"« {NOT_AVAILABLE} » : aucun accusé enregistré pour cette alerte."
        )
    else:
        notes.append(
            f"« Remis » et « Lus » sont « {NOT_AVAILABLE} » : le tableau des alertes ne reçoit "
            "pas encore les accusés de remise et de lecture de WhatsApp."
        )
    notes.append(
        "Les adhérents sont comptés à la date du rapport ; aucun groupe de moins de 5 "
        "personnes n’est montré. Ce rapport ne contient ni nom ni numéro de téléphone."
    )
    return notes
