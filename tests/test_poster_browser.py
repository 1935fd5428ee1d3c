"""The printable poster (`alerte-message affiche`) and the inscription page built with a public
WhatsApp number, checked in Chromium: the poster prints on exactly one A4 page, and its QR code
is the click-to-chat link with « INSCRIPTION » typed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import playwright.sync_api as sync_api
import pytest

from support.scenario import ROOT
from support.unavailable import unavailable
from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NUMBER = "+33 4 66 00 00 00"


def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF Chromium printed: its page objects (`/Type /Page`, not `/Pages`)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        unavailable("Chromium absent (/usr/bin/chromium) : apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def affiche(tmp: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "WHATSAPP_NUMERO_PUBLIC": NUMBER,
           "ALERTE_SITE_URL": "https://alerte-message.cma-lozere.fr"}
    return subprocess.run(
        [sys.executable, "-m", "sender", "affiche", *extra], cwd=tmp, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )


def test_poster_prints_on_one_a4_page_with_the_qr_code(tmp_path: Path, browser):
    result = affiche(tmp_path, "--sortie", "affiche.html")
    assert result.returncode == 0, result.stderr
    poster = tmp_path / "affiche.html"
    html = poster.read_text("utf-8")
    assert "@page { size: A4" in html and "<script" not in html
    page = browser.new_page()
    page.goto(poster.as_uri())
    qr = page.locator(".qr svg")
    assert qr.count() == 1 and qr.bounding_box()["width"] > 300  # about 95 mm on screen
    assert "+33\u00a04\u00a066\u00a000\u00a000\u00a000" in page.inner_text("main")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    page.close()
    assert pdf.startswith(b"%PDF") and pdf_pages(pdf) == 1


def test_pdf_page_count_sees_a_second_page(browser):
    """The page count itself: a document twice as tall as A4 prints on two pages."""
    page = browser.new_page()
    page.set_content("<style>@page{size:A4}</style><div style='height:500mm'>x</div>")
    pdf = page.pdf(prefer_css_page_size=True)
    page.close()
    assert pdf_pages(pdf) == 2


def test_poster_needs_the_public_number(tmp_path: Path):
    env = {"PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "sender", "affiche"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2 and "WHATSAPP_NUMERO_PUBLIC" in result.stderr


@pytest.fixture(scope="module")
def whatsapp_site(tmp_path_factory) -> Path:
    from tests.test_site_build import _build

    out = tmp_path_factory.mktemp("site-whatsapp") / "output"
    _build(out, "pelicanconf.py", {"WHATSAPP_NUMERO_PUBLIC": NUMBER})
    return out


def test_inscription_page_offers_whatsapp_first(tmp_path: Path, whatsapp_site: Path):
    from tests.test_site_build import _build

    page = (whatsapp_site / "inscription" / "index.html").read_text("utf-8")
    link = page.index('href="https://wa.me/33466000000?text=INSCRIPTION"')
    assert "<svg" in page[link:] and page.index("<form") > link  # WhatsApp first, form second
    plain = tmp_path / "sans"
    _build(plain, "pelicanconf.py")
    assert "wa.me" not in (plain / "inscription" / "index.html").read_text("utf-8")


def test_pages_with_the_qr_code_in_chromium(tmp_path: Path, whatsapp_site: Path, browser):
    """The inscription page and the thanks page after a form sign-up, served by the intake
    with its Content-Security-Policy: the QR code is drawn (inline SVG, no script), the link
    is the click-to-chat one, no console error (a CSP violation is one), no axe violation."""
    import axe_playwright_python.sync_playwright as axe_module

    from sender.intake.app import create_app
    from support.site import new_register, running

    register = new_register(tmp_path / "registre.sqlite")
    app = create_app(register, whatsapp_site, ROOT / "site" / "templates",
                     secret=b"secret-du-test-de-l-affiche-0123456789abcdef",
                     whatsapp_number="33466000000")
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="fr-FR")
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    with running(app) as url:
        page.goto(url + "inscription/")
        assert page.locator(".whatsapp-inscription svg").bounding_box()["width"] > 100
        assert page.locator("a.bouton", has_text="WhatsApp").get_attribute("href") == (
            "https://wa.me/33466000000?text=INSCRIPTION"
        )
        page.fill("#inscription-nom", "Jeanne Martin")
        page.fill("#inscription-entreprise", "Boulangerie Martin")
        page.select_option("#inscription-activite", index=1)
        page.fill("#inscription-commune", "Mende")
        page.fill("#inscription-telephone", "06 12 34 56 78")
        page.check("#inscription-consentement")
        page.click("#formulaire-inscription button[type=submit]")
        page.wait_for_url(re.compile(r".*/merci-inscription/\?code=\d{6}$"))
        href = page.locator(".whatsapp-lien a").get_attribute("href")
        assert re.fullmatch(r"https://wa\.me/33466000000\?text=INSCRIPTION%20\d\d-\d{4}", href)
        assert page.locator(".whatsapp-lien svg").bounding_box()["width"] > 100
        violations = axe_module.Axe().run(page)
        assert not violations.violations_count, violations.generate_report()
    context.close()
    register.close()
    assert problems == []
