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


def test_inscription_page_offers_whatsapp_first(tmp_path: Path):
    from tests.test_site_build import _build

    out = tmp_path / "site"
    _build(out, "pelicanconf.py", {"WHATSAPP_NUMERO_PUBLIC": NUMBER})
    page = (out / "inscription" / "index.html").read_text("utf-8")
    link = page.index('href="https://wa.me/33466000000?text=INSCRIPTION"')
    assert "<svg" in page[link:] and page.index("<form") > link  # WhatsApp first, form second
    plain = tmp_path / "sans"
    _build(plain, "pelicanconf.py")
    assert "wa.me" not in (plain / "inscription" / "index.html").read_text("utf-8")
