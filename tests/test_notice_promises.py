"""One source for every promise of the data notice: the durations the page states are the
settings the purge applies (`[[duree:…]]` markers), and the report to the préfecture shows a
per-alert count under 5 as « moins de 5 »."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, datetime
from html import unescape
from pathlib import Path

import pytest

from sender.config import Settings
from sender.dates import PARIS
from sender.errors import ConfigurationError
from sender.reporting.report import build_report, small_group
from sender.website.blocks import Blocks
from sender.website.durations import durations

ROOT = Path(__file__).resolve().parent.parent
NOTICE = ROOT / "content" / "pages" / "donnees.md"
_SPAN = re.compile(r'<span class="duree" data-duree="([a-z-]+)">([^<]*)</span>')


def test_the_notice_states_every_duration_through_a_marker() -> None:
    text = NOTICE.read_text("utf-8")
    for name in durations(Settings()):
        assert f"[[duree:{name}]]" in text, name
    kept = text.split("## Combien de temps")[1].split("## Vos droits")[0]
    # No duration typed by hand: every number of days or months comes from a setting.
    assert not re.search(r"\d+\s*(jours?|mois|ans?)\b|un mois|un an", kept), kept


def test_durations_are_rendered_from_the_settings() -> None:
    settings = Settings.from_env({"ALERTE_CONSERVATION_DESINSCRITS": "45",
                                  "ALERTE_CONSERVATION_DEMANDES": "1",
                                  "ALERTE_CONSERVATION_TRACES": "18",
                                  "ALERTE_CONFIRMATION_JOURS": "3"})
    stated = durations(settings)
    assert stated == {"desinscrits": "45\u00a0jours", "demandes": "1\u00a0jour",
                      "traces": "18\u00a0mois", "lien": "3\u00a0jours",
                      "messages-recus": "8\u00a0jours"}
    html = Blocks({}, None, stated)("<p>Effacées [[duree:desinscrits]] après.</p>")
    assert 'data-duree="desinscrits">45\u00a0jours</span>' in html
    with pytest.raises(ConfigurationError, match=r"\[\[duree:siecle\]\] inconnu"):
        Blocks({}, None, stated)("[[duree:siecle]]")


def test_default_settings_are_the_documented_ones() -> None:
    retention = Settings.from_env({}).retention
    table = (ROOT / "docs" / "reglages.md").read_text("utf-8")
    for name, value in (("ALERTE_CONSERVATION_DESINSCRITS", retention.unsubscribed_days),
                        ("ALERTE_CONSERVATION_DEMANDES", retention.requests_days),
                        ("ALERTE_CONSERVATION_TRACES", retention.traces_months)):
        row = next(line for line in table.splitlines() if line.startswith(f"| `{name}`"))
        assert row.rstrip().endswith(f"| `{value}` |"), row


@pytest.mark.slow
def test_the_built_notice_states_the_settings_the_purge_applies(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTE_")}
    env.update(ALERTE_CONSERVATION_DESINSCRITS="21", ALERTE_CONSERVATION_TRACES="6",
               ALERTE_STATISTIQUES=str(tmp_path / "aucun.json"))
    out = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-s", "pelicanconf.py", "-o", str(out),
         "-q"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    page = (out / "donnees-personnelles" / "index.html").read_text("utf-8")
    stated = {name: unescape(value) for name, value in _SPAN.findall(page)}
    applied = Settings.from_env({k: v for k, v in env.items() if k.startswith("ALERTE_")})
    assert stated == durations(applied)
    assert stated["desinscrits"] == "21\u00a0jours" and stated["traces"] == "6\u00a0mois"
    assert "[[" not in page


# -- the report to the préfecture ---------------------------------------------------------------


def test_small_counts_read_moins_de_5() -> None:
    assert [small_group(t) for t in ("0", "1", "4", "5", "40", "non disponible")] == [
        "0", "moins de 5", "moins de 5", "5", "40", "non disponible"]


def test_the_report_never_shows_a_group_under_5() -> None:
    alert = {"id": "7", "type": "vol", "commune": "Meyrueis", "statut": "diffusée",
             "faits_le": "02/03/2026 10:00", "signale_le": "02/03/2026 10:20",
             "destinataires": "2", "envoyes": "2", "echecs": "0", "remis": "1", "lus": "1"}
    big = dict(alert, id="8", commune="Mende", destinataires="12", envoyes="11", echecs="1",
               remis="9", lus="6")
    report = build_report([], [alert, big], list(alert), {}, date(2026, 3, 1),
                          date(2026, 3, 31), datetime(2026, 4, 1, tzinfo=PARIS))
    small, large = report.broadcast
    assert (small.recipients, small.sent, small.failed, small.delivered, small.read) == (
        "moins de 5", "moins de 5", "0", "moins de 5", "moins de 5")
    # One failure among twelve is a group of one person too.
    assert (large.recipients, large.sent, large.failed, large.delivered, large.read) == (
        "12", "11", "moins de 5", "9", "6")
