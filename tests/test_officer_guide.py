"""The officer's one-page guide « Lancer une alerte »: real column names and statuses, the CMA's
contact, the settings it quotes, and one A4 page in Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sender import schema
from sender.cli import main
from sender.website.officer_guide import officer_guide_html

DETAILS = {"telephone": "04 66 49 12 00", "courriel": "alerte@cma-lozere.fr"}
CHROMIUM = Path("/usr/bin/chromium")


def _page(**details: str) -> str:
    return officer_guide_html(details, stale_hours=48, poll_seconds=10)


def _codes(html: str) -> set[str]:
    return set(re.findall(r"<code>([^<]+)</code>", html))


def test_guide_quotes_only_real_column_names_and_statuses():
    codes = _codes(_page(**DETAILS))
    known = set(schema.COLUMNS[schema.ALERTES]) | set(schema.ALERT_STATUSES) | {schema.ALERTES}
    assert codes <= known, f"noms inconnus du schéma : {sorted(codes - known)}"


def test_guide_names_every_alertes_column_and_every_status():
    html = _page(**DETAILS)
    codes = _codes(html)
    assert set(schema.COLUMNS[schema.ALERTES]) <= codes
    statuses = re.findall(r"<tr><td><code>([^<]+)</code></td>", html)
    assert statuses == list(schema.ALERT_STATUSES)
    for sequel in schema.SEQUEL_TYPES:
        assert f"<strong>{sequel.replace(chr(39), '’')}</strong>" in html


def test_guide_fills_the_cma_contact_and_the_settings():
    html = officer_guide_html(DETAILS, stale_hours=24, poll_seconds=30)
    assert "[[" not in html
    assert 'href="tel:0466491200"' in html and "mailto:alerte@cma-lozere.fr" in html
    assert "Au-delà de 24\u00a0h" in html and "toutes les 30\u00a0s" in html
    assert f"jusqu’à {schema.SEQUEL_MAX_DAYS} jours" in html
    missing = _page()
    assert "à fournir par la CMA" in missing


def test_guide_command_writes_the_page(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ALERTE_REGISTRE", str(tmp_path / "registre.sqlite"))
    monkeypatch.setenv("ALERTE_CMA_TELEPHONE", "04 66 49 12 00")
    monkeypatch.delenv("ALERTE_CMA_COURRIEL", raising=False)
    path = tmp_path / "guide.html"
    assert main(["guide-agent", "--sortie", str(path)]) == 0
    page = path.read_text("utf-8")
    assert "<title>Lancer une alerte" in page and "04 66 49 12 00" in page
    err = capsys.readouterr().err
    assert "ALERTE_CMA_COURRIEL" in err


@pytest.mark.browser
def test_guide_prints_on_one_a4_page(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.fail("Chromium absent : /usr/bin/chromium est requis pour ce test")
    path = tmp_path / "guide.html"
    path.write_text(_page(**DETAILS), "utf-8")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page()
            page.goto(path.as_uri())
            pdf = page.pdf(format="A4", print_background=True)
        finally:
            browser.close()
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
