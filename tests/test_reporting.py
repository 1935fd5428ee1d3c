"""The network in figures (sender/reporting/): privacy-safe counts, charts, the report to the
préfecture, and the commands `statistiques` and `rapport`."""

from __future__ import annotations

import json
import re
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sender.cli import main
from sender.dates import PARIS
from sender.errors import InputError
from sender.journal.journal import Journal
from sender.reporting.aggregate import (
    OTHERS,
    THRESHOLD,
    alerts_by_month,
    alerts_by_type,
    members_by_trade,
    members_by_zone,
    protect,
    statistics,
)
from sender.reporting.charts import bar_chart, statistics_sections
from sender.reporting.document import render_report
from sender.reporting.report import (
    MEDIAN_FIRST,
    MEDIAN_LAST,
    NOT_APPLICABLE,
    NOT_AVAILABLE,
    NOT_MEASURED,
    build_report,
)
from sender.reporting.store import read_statistics, write_statistics
from sender.schema import ALERTES, INSCRIPTIONS
from support.network import ACTIVE_MEMBERS, SENT_AFTER, SMALL_TRADES, network_register
from tests.test_site_build import Page

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=PARIS)


# -- no group under 5 people ---------------------------------------------------------------


def test_small_groups_are_merged_into_autres():
    shown = protect({"Bâtiment": 12, "Tabac": 3, "Bijouterie": 2, "Coiffure": 8})
    assert [(g.label, g.count) for g in shown.groups] == [
        ("Bâtiment", 12), ("Coiffure", 8), (OTHERS, 5)
    ]
    assert shown.merged == 2 and not shown.hidden


def test_a_merged_group_still_under_5_takes_the_next_smallest_with_it():
    # « Autres » alone would hold 3 people: total − shown would give them away.
    shown = protect({"Bâtiment": 12, "Coiffure": 8, "Tabac": 3})
    assert [(g.label, g.count) for g in shown.groups] == [("Bâtiment", 12), (OTHERS, 11)]
    assert shown.merged == 2


def test_under_5_in_all_nothing_is_shown():
    shown = protect({"Bâtiment": 2, "Tabac": 2})
    assert shown.groups == [] and shown.hidden
    assert protect({}).groups == [] and not protect({}).hidden


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.integers(0, 40), max_size=12))
def test_every_shown_group_counts_at_least_5_people_and_nothing_is_lost(counts):
    shown = protect(counts)
    total = sum(counts.values())
    assert all(group.count >= THRESHOLD for group in shown.groups)
    if total >= THRESHOLD:
        assert shown.total == total
    else:
        assert shown.groups == []


def test_members_by_zone_and_trade_count_only_active_members():
    rows = (
        [{"statut": "actif", "zone": "police", "activite": "Bâtiment"}] * 6
        + [{"statut": "actif", "zone": "gendarmerie", "activite": "bâtiment"}] * 5
        + [{"statut": "actif", "zone": "gendarmerie", "activite": "Plombier"}] * 5
        + [{"statut": "en attente", "zone": "police", "activite": "Bâtiment"}] * 9
    )
    members = [row for row in rows if row["statut"] == "actif"]
    zones = members_by_zone(members)
    assert {g.label: g.count for g in zones.groups} == {
        "Zone police (Mende)": 6, "Zone gendarmerie (autres communes)": 10
    }
    trades = members_by_trade(members)
    # « Plombier » is not one of the form's trades: counted with « Autre » as « Autres ».
    assert {g.label: g.count for g in trades.groups} == {"Bâtiment": 11, OTHERS: 5}
    document = statistics(rows, [], NOW)
    assert document["adherents"]["total"] == 16


def test_alerts_by_type_and_month_are_exact_and_every_month_is_listed():
    alerts = [
        {"type": "Vol", "statut": "diffusée", "signale_le": "03/06/2026 10:17"},
        {"type": "tentative de vol", "statut": "diffusée", "signale_le": "20/06/2026 17:05"},
        {"type": "Prévention", "statut": "diffusée", "saisie_le": "01/09/2026 09:00"},
    ]
    by_type = alerts_by_type(alerts)
    assert [(g.label, g.count) for g in by_type.groups] == [
        ("Vol", 2), ("Agression", 0), ("Cambriolage", 0), ("Escroquerie", 0), ("Prévention", 1)
    ]
    by_month = alerts_by_month(alerts, date(2026, 5, 1), date(2026, 9, 30))
    assert [(g.key, g.count) for g in by_month.groups] == [
        ("2026-05", 0), ("2026-06", 2), ("2026-07", 0), ("2026-08", 0), ("2026-09", 1)
    ]
    assert by_month.groups[1].label == "juin 2026"


def test_statistics_of_a_register_with_history(tmp_path):
    register = network_register(tmp_path / "r.sqlite")
    tables = register.read([INSCRIPTIONS, ALERTES])
    register.close()
    document = statistics(tables[INSCRIPTIONS].as_dicts(), tables[ALERTES].as_dicts(), NOW)
    text = json.dumps(document, ensure_ascii=False)
    assert document["adherents"]["total"] == ACTIVE_MEMBERS
    for trade in SMALL_TRADES:
        assert trade not in text
    assert document["adherents"]["par_activite"]["regroupes"] == 3
    # Broadcast alerts only (no refused, no draft), over the last 12 months.
    assert document["alertes"]["total"] == 5
    assert document["alertes"]["du"] == "2025-12-01" and document["alertes"]["au"] == "2026-11-30"
    assert len(document["alertes"]["par_mois"]["groupes"]) == 12
    assert "Adhérent" not in text and "+336" not in text  # no name, no number


# -- the figures file ------------------------------------------------------------------------


def test_figures_file_round_trip_and_refusals(tmp_path):
    path = tmp_path / "data" / "statistiques.json"
    assert read_statistics(path) is None  # no figures yet
    document = statistics([{"statut": "actif", "zone": "police"}] * 7, [], NOW)
    write_statistics(document, path)
    assert read_statistics(path) == document
    path.write_text("{pas du json", "utf-8")
    with pytest.raises(InputError, match="pas du JSON lisible"):
        read_statistics(path)
    path.write_text(json.dumps({"format": "autre"}), "utf-8")
    with pytest.raises(InputError, match="n'est pas un fichier de chiffres"):
        read_statistics(path)
    small = json.loads(json.dumps(document))
    small["adherents"]["par_zone"]["groupes"] = [{"libelle": "Zone police (Mende)", "nombre": 2}]
    path.write_text(json.dumps(small), "utf-8")
    with pytest.raises(InputError, match="moins de 5 personnes"):
        read_statistics(path)


# -- charts ----------------------------------------------------------------------------------


def test_bar_chart_is_named_described_and_tabulated():
    html = bar_chart("z", "Adhérents par zone", [("Zone police (Mende)", 28), ("Autres", 0)],
                     column="Zone", unit=("adhérent", "adhérents"))
    page = Page()
    page.feed(html)
    page.close()
    assert not page.problems
    assert 'role="img" aria-labelledby="z-t z-d"' in html and {"z-t", "z-d"} <= page.ids
    assert "Zone police (Mende) : 28 adhérents ; Autres : 0 adhérent." in html.replace("\xa0", " ")
    assert '<th scope="row">Zone police (Mende)</th><td>28</td>' in html
    assert ">Zone police</text>" in html  # the parenthesis stays in the table only
    assert 'width="80.0%"' in html and html.count("<rect") == 1  # no bar for 0
    assert "style=" not in html  # the site's CSP blocks style attributes


# -- the report to the préfecture ------------------------------------------------------------


@pytest.fixture
def history(tmp_path):
    register = network_register(tmp_path / "r.sqlite", tmp_path / "journal.sqlite")
    tables = register.read([INSCRIPTIONS, ALERTES])
    register.close()
    with Journal(tmp_path / "journal.sqlite") as journal:
        times = journal.send_times([str(n) for n in range(1, 8)])
    return tables, times


def test_journal_send_times(history):
    _, times = history
    assert set(times) == set(SENT_AFTER)
    first, last, count = times["1"]
    assert count == 2 and last - first == (SENT_AFTER["1"][1] - SENT_AFTER["1"][0]) * 60


def test_report_lines_delays_and_refusals(history):
    tables, times = history
    alerts = tables[ALERTES]
    report = build_report(tables[INSCRIPTIONS].as_dicts(), alerts.as_dicts(), alerts.headers,
                          times, date(2026, 6, 1), date(2026, 10, 31), NOW)
    lines = {line.alert_id: line for line in report.broadcast}
    assert list(lines) == ["1", "2", "4", "5", "6"]  # the draft (7) is not reported
    one = lines["1"]
    assert (one.type_label, one.commune, one.facts_to_report) == ("Vol", "Marvejols", "12 min")
    assert (one.report_to_first, one.report_to_last) == ("3 min", "9 min")
    assert (one.recipients, one.sent, one.failed) == ("40", "40", "0")
    assert (one.delivered, one.read) == (NOT_AVAILABLE, NOT_AVAILABLE)
    assert lines["2"].type_label == "Escroquerie (arnaque au rendez-moi)"
    assert lines["5"].facts_to_report == NOT_APPLICABLE  # prevention
    assert lines["5"].report_to_first == "1 min"  # from its entry in the register
    assert lines["6"].report_to_first == NOT_MEASURED  # nothing in the journal
    assert [(line.alert_id, line.motif[:25]) for line in report.refused] == [
        ("3", "Signalement 1 h 35 après ")
    ]
    # Incidents reported after 12, 25, 8 and 30 min: median 18 min 30 s, shown « 18 min ».
    assert dict(report.medians)["Délai médian entre les faits et le signalement"] == "18 min"
    # A shorter period keeps only its alerts.
    june = build_report([], alerts.as_dicts(), alerts.headers, times,
                        date(2026, 6, 1), date(2026, 6, 30), NOW)
    assert [line.alert_id for line in june.broadcast] == ["1", "2"] and june.refused == []


def test_delivered_and_read_come_from_their_columns_when_the_register_has_them(history):
    tables, times = history
    rows = tables[ALERTES].as_dicts()
    for row in rows:
        row.update(remis="38", lus="21") if row["id"] == "1" else row.update(remis="", lus="")
    report = build_report([], rows, [*tables[ALERTES].headers, "remis", "lus"], times,
                          date(2026, 6, 1), date(2026, 6, 30), NOW)
    assert (report.broadcast[0].delivered, report.broadcast[0].read) == ("38", "21")
    assert report.broadcast[1].delivered == NOT_AVAILABLE


def test_report_document_is_self_contained_and_well_formed(history):
    tables, times = history
    alerts = tables[ALERTES]
    report = build_report(tables[INSCRIPTIONS].as_dicts(), alerts.as_dicts(), alerts.headers,
                          times, date(2026, 6, 1), date(2026, 10, 31), NOW)
    html = render_report(report)
    page = Page()
    page.feed(html)
    page.close()
    assert not page.problems
    assert page.html_lang == "fr" and page.headings.count(1) == 1
    assert page.tags.get("script", 0) == 0 and page.tags.get("link", 0) == 0
    assert page.tags.get("img", 0) == 0 and not re.search(r"(?:src|href)=\"https?:", html)
    assert "url(" not in html and "@import" not in html
    assert page.tags["svg"] == 4 and page.tags["table"] == 4 + 2
    assert '<table aria-labelledby="tableau-diffusees">' in html
    assert "+336" not in html and "Adhérent 1" not in html  # no number, no name
    assert "accepté ne veut pas dire remis" in html.replace("\xa0", " ")



def test_prevention_messages_stay_out_of_the_median_delays(history):
    tables, times = history
    alerts = tables[ALERTES]
    report = build_report(tables[INSCRIPTIONS].as_dicts(), alerts.as_dicts(), alerts.headers,
                          times, date(2026, 6, 1), date(2026, 10, 31), NOW)
    medians = dict(report.medians)
    # Alerts 1, 2 and 4 were first sent 3, 2 and 4 min after their report, last 9, 14 and 7 min
    # after; the prevention message (1 and 20 min after its entry) would make them 2 and 11 min.
    assert medians[f"{MEDIAN_FIRST} (hors prévention)"] == "3 min"
    assert medians[f"{MEDIAN_LAST} (hors prévention)"] == "9 min"
    html = " ".join(render_report(report).replace("\xa0", " ").split())
    assert "pas dans les délais médians" in html
    assert f"{MEDIAN_FIRST} (hors prévention) : 3 min" in html
    for jargon in ("signale_le", "saisie_le", "alerte-message", "colonnes remis"):
        assert jargon not in html, jargon
    assert re.search(r"Établi le \d\d/\d\d/\d{4} à \d\d h \d\d par", html)
    assert "03/06/2026 à 10 h 17" in html  # the alert's row


def test_alert_charts_of_a_period_without_alerts_are_one_sentence():
    document = {
        "seuil": 5,
        "adherents": {"total": 12, "par_zone": {"groupes": [{"libelle": "Zone", "nombre": 12}]}},
        "alertes": {
            "du": "2026-01-01", "au": "2026-03-31", "total": 0,
            "par_type": {"groupes": [{"libelle": "Vol", "nombre": 0}]},
            "par_mois": {"groupes": [{"libelle": f"{m} 2026", "nombre": 0}
                                     for m in ("janvier", "février", "mars")]},
        },
    }
    html = statistics_sections(document).replace("\xa0", " ")
    assert "Alertes diffusées par mois : aucune alerte diffusée sur la période." in html
    assert "Alertes diffusées par type : aucune alerte diffusée sur la période." in html
    assert html.count('<svg class="barres"') == 1  # the members' chart only
    assert "janvier 2026" not in html

# -- the commands ----------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path, monkeypatch):
    network_register(tmp_path / "registre.sqlite", tmp_path / "journal.sqlite").close()
    monkeypatch.setenv("ALERTE_REGISTRE", str(tmp_path / "registre.sqlite"))
    monkeypatch.setenv("ALERTE_JOURNAL", str(tmp_path / "journal.sqlite"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_statistiques_command_writes_the_default_file(env, capsys):
    assert main(["statistiques"]) == 0
    err = capsys.readouterr().err
    document = read_statistics(env / "data" / "statistiques.json")
    assert document is not None and document["adherents"]["total"] == ACTIVE_MEMBERS
    assert f"{ACTIVE_MEMBERS} adhérents actifs" in err and "réunis dans « Autres »" in err


def test_rapport_command(env, capsys):
    assert main(["rapport", "--du", "2026-06-01", "--au", "2026-10-31"]) == 0
    assert "5 alertes diffusées, 1 alerte refusée" in capsys.readouterr().err
    html = (env / "rapport-2026-06-01-2026-10-31.html").read_text("utf-8")
    assert "3 min" in html and "Signalement 1 h 35 après les faits" in html


def test_rapport_without_journal_says_not_measured(env, capsys, monkeypatch):
    monkeypatch.setenv("ALERTE_JOURNAL", str(env / "absent.sqlite"))
    assert main(["rapport", "--du", "2026-06-01", "--au", "2026-06-30", "--sortie", "r.html"]) == 0
    assert "Journal des envois introuvable" in capsys.readouterr().err
    assert not (env / "absent.sqlite").exists()  # reading never creates a journal
    assert "3 min" not in (env / "r.html").read_text("utf-8")


@pytest.mark.parametrize(("du", "au", "message"), [
    ("01/06/2026", "2026-06-30", "--du attend une date AAAA-MM-JJ"),
    ("2026-07-01", "2026-06-30", "La période est à l'envers"),
])
def test_rapport_refuses_bad_dates_in_french(env, capsys, du, au, message):
    assert main(["rapport", "--du", du, "--au", au]) == 1
    assert message in capsys.readouterr().err

