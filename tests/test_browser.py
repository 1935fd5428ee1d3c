"""The real built site and forms in headless Chromium: a person signs up, errors, axe-core;
every page and the report to the préfecture at 360 px and 1280 px.

One Pelican build (with figures made by `alerte-message statistiques` from a register with some
history), one intake server and one browser for the whole module. Screenshots go to
test-artifacts/ at the repository root (git-ignored): `page-<page>-<width>.png` for every page.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import axe_playwright_python.sync_playwright as axe_module
import playwright.sync_api as sync_api
import pypdf
import pytest

from sender import schema
from sender.channels.outbox import OutboxChannel
from sender.config import Settings
from sender.consent.messages import WITHOUT_ANSWER
from sender.consent.tokens import sign
from sender.intake.app import create_app
from sender.runner import Sender
from sender.schema import ACTIVITES, DESINSCRIPTIONS, INSCRIPTIONS
from support.network import network_register
from support.scenario import (
    alerte_message_bin,
    officer_rows,
    prevention_alert,
    quiet_console,
    subprocess_env,
)
from support.site import new_register, rows, running
from support.unavailable import unavailable

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MOBILE = {"width": 360, "height": 800}
SECRET = b"secret-des-tests-du-navigateur-0123456789-abcdef"
WIDE = {"width": 1280, "height": 800}


# -- module fixtures -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def network(tmp_path_factory) -> dict[str, Path]:
    """A register with history and its journal; the figures and the report made from it by the
    real `alerte-message statistiques` and `alerte-message rapport` commands."""
    tmp = tmp_path_factory.mktemp("reseau")
    network_register(tmp / "registre.sqlite", tmp / "journal.sqlite").close()
    env = subprocess_env(tmp, str(tmp / "registre.sqlite"))
    paths = {"statistiques": tmp / "statistiques.json", "rapport": tmp / "rapport.html"}
    for command in (
        ["statistiques", "--sortie", str(paths["statistiques"])],
        ["rapport", "--du", "2026-06-01", "--au", "2026-10-31", "--sortie", str(paths["rapport"])],
    ):
        result = subprocess.run(
            [alerte_message_bin(), *command], env=env, capture_output=True, text=True,
            timeout=120, check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    return paths


@pytest.fixture(scope="module")
def built_site(tmp_path_factory, network) -> Path:
    out = tmp_path_factory.mktemp("site") / "output"
    pelican = Path(sys.executable).with_name("pelican")
    command = [str(pelican)] if pelican.exists() else [sys.executable, "-m", "pelican"]
    result = subprocess.run(
        [*command, "content", "-s", "pelicanconf.py", "-o", str(out)],
        cwd=ROOT,
        env={**os.environ, "ALERTE_STATISTIQUES": str(network["statistiques"])},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for needed in ("index.html", "inscription/index.html", "desinscription/index.html"):
        assert (out / needed).is_file(), f"{needed} absent du site construit"
    return out


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    reg = new_register(tmp_path_factory.mktemp("registre") / "registre.sqlite")
    yield reg
    reg.close()


@pytest.fixture(scope="module")
def base_url(built_site, register):
    app = create_app(
        register, built_site, ROOT / "site" / "templates", posts_per_minute=1000, secret=SECRET
    )
    with running(app) as url:
        yield url.rstrip("/")


@pytest.fixture(scope="module")
def sender(tmp_path_factory, register, base_url):
    """The sender of this register, writing its messages to an outbox file."""
    tmp = tmp_path_factory.mktemp("expediteur")
    settings = Settings(journal=tmp / "journal.sqlite", outbox=tmp / "outbox.jsonl",
                        secret=SECRET.decode(), site_url=base_url)
    channel = OutboxChannel(settings.outbox, console=quiet_console(), quiet=True)
    running_sender = Sender(register, settings, channel=channel, console=quiet_console(),
                            progress=False)
    yield running_sender
    running_sender.close()


def outbox(sender: Sender, message_id_start: str = "") -> list[dict]:
    path = sender.settings.outbox
    lines = path.read_text("utf-8").splitlines() if path.exists() else []
    return [m for m in map(json.loads, lines) if m["alert_id"].startswith(message_id_start)]


def link_for(sender: Sender, numero: str, kind: str) -> str:
    (message,) = [m for m in outbox(sender, f"confirmation-{kind}-") if m["recipient"] == numero]
    found = re.search(r"https?://\S+", message["text"])
    assert found
    return found.group(0)


def row_of(register, numero: str, tab: str = INSCRIPTIONS) -> dict[str, str]:
    digits = numero[3:]
    (row,) = [r for r in rows(register, tab) if r["telephone"].replace(" ", "")[-9:] == digits]
    return row


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        message = "Chromium absent (/usr/bin/chromium) : apt-get install chromium"
        unavailable(message)
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    ARTIFACTS.mkdir(exist_ok=True)
    viewport = getattr(request, "param", MOBILE)
    context = browser.new_context(viewport=viewport, locale="fr-FR", java_script_enabled=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"erreur JavaScript : {exc}"))
    tab.on(
        "console",
        lambda msg: problems.append(f"console : {msg.text}") if msg.type == "error" else None,
    )
    tab.problems = problems  # type: ignore[attr-defined]
    yield tab
    context.close()


# -- helpers -------------------------------------------------------------------------------


def described_by(page, selector: str) -> str:
    """Text of the elements named by the field's aria-describedby (hint and error)."""
    return page.eval_on_selector(
        selector,
        """el => (el.getAttribute('aria-describedby') || '').split(/\\s+/)
                 .map(id => document.getElementById(id))
                 .map(d => (d ? d.textContent : '')).join(' ')""",
    )


def error_near(page, selector: str) -> str:
    """The message shown with the field: its described-by text plus its container's text."""
    around = page.eval_on_selector(
        selector, "el => (el.closest('div, fieldset, p') || el.parentElement).textContent"
    )
    return " ".join((described_by(page, selector) + " " + around).split())


def type_into(page, selector: str, text: str) -> None:
    page.click(selector)
    page.keyboard.type(text)


def axe_violations(page, label: str) -> str:
    """axe-core's report on the page, empty when it finds no violation."""
    results = axe_module.Axe().run(page)
    if not results.violations_count:
        return ""
    return f"axe-core : {label} ({page.url})\n{results.generate_report()}"


def built_pages(site: Path) -> list[str]:
    paths = []
    for html in sorted(site.rglob("*.html")):
        rel = html.relative_to(site).as_posix()
        if rel == "index.html":
            paths.append("/")
        elif rel.endswith("/index.html"):
            paths.append("/" + rel[: -len("index.html")])
        else:
            paths.append("/" + rel)
    return paths


SIGNUP = "#formulaire-inscription"
F = {name: f"{SIGNUP} [name={name}]" for name in
     ("nom", "entreprise", "activite", "commune", "telephone", "consentement")}


# -- tests ---------------------------------------------------------------------------------


def test_a_person_signs_up_with_the_keyboard(page, base_url, register):
    before = len(rows(register, INSCRIPTIONS))
    page.goto(base_url + "/inscription/")
    type_into(page, F["nom"], "Jeanne Martin")
    page.keyboard.press("Tab")
    page.keyboard.type("Boulangerie du Gévaudan")
    page.select_option(F["activite"], label=ACTIVITES[0])
    type_into(page, F["commune"], "Marvejols")
    type_into(page, F["telephone"], "06 12 34 56 78")
    page.focus(F["consentement"])
    page.keyboard.press("Space")
    assert page.is_checked(F["consentement"])
    page.click(f"{SIGNUP} [type=submit]")
    page.wait_for_url("**/merci-inscription/")
    assert page.locator("h1").first.is_visible()
    stored = rows(register, INSCRIPTIONS)
    assert len(stored) == before + 1
    row = stored[-1]
    assert (row["nom"], row["entreprise"], row["commune"]) == (
        "Jeanne Martin", "Boulangerie du Gévaudan", "Marvejols",
    )
    assert row["activite"] == ACTIVITES[0]
    assert row["telephone"] == "06 12 34 56 78"
    assert row["source"] == "formulaire" and row["consentement"].startswith("v1 ")
    assert page.problems == []  # type: ignore[attr-defined]


def test_empty_submission_shows_french_messages_and_a_reachable_summary(page, base_url):
    page.goto(base_url + "/inscription/")
    page.click(f"{SIGNUP} [type=submit]")
    page.wait_for_load_state()
    assert page.title().startswith("Erreur")
    summary = page.locator("[role=alert]").first
    assert summary.is_visible()
    assert "Indiquez le nom de votre entreprise." in summary.inner_text()
    assert "Indiquez le nom de votre entreprise." in error_near(page, F["entreprise"])
    assert "Choisissez votre commune dans la liste des communes de Lozère." in error_near(
        page, F["commune"]
    )
    assert "Cochez la case pour accepter" in error_near(page, F["consentement"])
    for name in ("nom", "entreprise", "activite", "commune", "telephone"):
        assert page.get_attribute(F[name], "aria-invalid") == "true", name
    # The summary links lead to the fields.
    link = summary.locator("a[href]").first
    target = link.get_attribute("href")
    link.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement && document.activeElement.id") == target[1:]
    report = axe_violations(page, "inscription, erreurs")
    assert report == "", report


def test_landline_is_refused_next_to_the_field_and_values_are_kept(page, base_url, register):
    before = len(rows(register, INSCRIPTIONS))
    page.goto(base_url + "/inscription/")
    type_into(page, F["nom"], "Paul Roux")
    type_into(page, F["entreprise"], "Garage <Roux> & fils")
    page.select_option(F["activite"], label="Automobile, motocycle")
    type_into(page, F["commune"], "st chely d apcher")
    type_into(page, F["telephone"], "04 66 31 00 00")
    page.check(F["consentement"])
    page.click(f"{SIGNUP} [type=submit]")
    page.wait_for_load_state()
    assert "n’est pas un mobile" in error_near(page, F["telephone"]).replace("'", "’")
    assert page.input_value(F["nom"]) == "Paul Roux"
    assert page.input_value(F["entreprise"]) == "Garage <Roux> & fils"
    assert page.input_value(F["activite"]) == "Automobile, motocycle"
    assert page.input_value(F["commune"]) == "Saint-Chély-d'Apcher"
    assert page.input_value(F["telephone"]) == "04 66 31 00 00"
    assert page.is_checked(F["consentement"])
    assert page.get_attribute(F["telephone"], "aria-invalid") == "true"
    assert page.get_attribute(F["nom"], "aria-invalid") != "true"
    page.screenshot(path=str(ARTIFACTS / "inscription-erreur-360x800.png"), full_page=True)
    # Fix the number and send again: accepted.
    page.fill(F["telephone"], "")
    type_into(page, F["telephone"], "07 81 23 45 67")
    page.click(f"{SIGNUP} [type=submit]")
    page.wait_for_url("**/merci-inscription/")
    stored = rows(register, INSCRIPTIONS)
    assert len(stored) == before + 1
    assert stored[-1]["commune"] == "Saint-Chély-d'Apcher"
    assert stored[-1]["entreprise"] == "Garage <Roux> & fils"


def test_unsubscribe(page, base_url, register):
    before = len(rows(register, DESINSCRIPTIONS))
    page.goto(base_url + "/desinscription/")
    form = "#formulaire-desinscription"
    page.click(f"{form} [type=submit]")
    page.wait_for_load_state()
    assert "Indiquez le numéro de mobile qui reçoit les alertes." in error_near(
        page, f"{form} [name=telephone]"
    )
    report = axe_violations(page, "désinscription, erreurs")
    assert report == "", report
    type_into(page, f"{form} [name=telephone]", "06 12 34 56 78")
    page.click(f"{form} [type=submit]")
    page.wait_for_url("**/merci-desinscription/")
    stored = rows(register, DESINSCRIPTIONS)
    assert len(stored) == before + 1
    assert stored[-1]["telephone"] == "06 12 34 56 78"


def test_every_built_page_passes_axe(page, base_url, built_site):
    failures = {}
    for path in built_pages(built_site):
        response = page.goto(base_url + path)
        assert response is not None and response.status == 200, path
        report = axe_violations(page, path)
        if report:
            failures[path] = report
    assert failures == {}, "\n\n".join(failures.values())


def test_missing_page_is_the_french_404(page, base_url):
    response = page.goto(base_url + "/page-qui-n-existe-pas/")
    assert response is not None and response.status == 404
    assert "introuvable" in page.content()
    report = axe_violations(page, "404")
    assert report == "", report


def test_screenshots_at_360x800(page, base_url):
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(base_url + "/")
    page.screenshot(path=str(ARTIFACTS / "accueil-360x800.png"))
    page.goto(base_url + "/inscription/")
    page.locator(SIGNUP).evaluate("el => el.scrollIntoView({block: 'start'})")
    page.screenshot(path=str(ARTIFACTS / "inscription-360x800.png"))
    page.screenshot(path=str(ARTIFACTS / "inscription-page-entiere-360x800.png"), full_page=True)
    assert (ARTIFACTS / "accueil-360x800.png").stat().st_size > 0
    assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]


# -- consent: the phone confirms ---------------------------------------------------------------


def test_signup_is_confirmed_from_the_link_then_receives_the_next_alert(
    page, base_url, register, sender
):
    numero = "+33699887766"
    page.goto(base_url + "/inscription/")
    type_into(page, F["nom"], "Lucie Pagès")
    type_into(page, F["entreprise"], "Épicerie du Pont")
    page.select_option(F["activite"], label=ACTIVITES[0])
    type_into(page, F["commune"], "Le Pont-de-Montvert")
    type_into(page, F["telephone"], "06 99 88 77 66")
    page.check(F["consentement"])
    page.click(f"{SIGNUP} [type=submit]")
    page.wait_for_url("**/merci-inscription/")
    assert WITHOUT_ANSWER["inscription"] in page.inner_text("main")

    sender.run_once()
    assert row_of(register, numero)["statut"] == schema.EN_ATTENTE
    link = link_for(sender, numero, "inscription")
    page.goto(link)
    assert page.locator("h1").inner_text() == "Confirmer votre inscription"
    assert row_of(register, numero)["confirme_le"] == ""  # opening the link confirms nothing
    report = axe_violations(page, "confirmation")
    assert report == "", report
    page.screenshot(path=str(ARTIFACTS / "confirmation-360x800.png"), full_page=True)
    page.click("button:has-text('Je confirme votre inscription')")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Inscription confirmée"
    report = axe_violations(page, "inscription confirmée")
    assert report == "", report

    sender.run_once()
    assert row_of(register, numero)["statut"] == schema.ACTIF
    if not rows(register, schema.HABILITATIONS):
        register.append(schema.HABILITATIONS, officer_rows())
    register.append(schema.ALERTES, [prevention_alert("901")])
    sender.run_once()
    assert numero in [m["recipient"] for m in outbox(sender, "901")]

    response = page.goto(link)  # the same link again: « déjà utilisé » at once, no button
    assert response is not None and response.status == 409
    assert page.locator("h1").inner_text() == "Lien déjà utilisé"
    assert page.locator("button:has-text('Je confirme votre inscription')").count() == 0
    # the 409 answer itself is reported by the console; nothing else may be
    problems = [p for p in page.problems if "status of 409" not in p]  # type: ignore[attr-defined]
    assert problems == []


def test_expired_link_gets_a_french_page(page, base_url):
    token = sign(SECRET, "inscription", "1", "+33612345678", time.time() - 60)
    response = page.goto(f"{base_url}/confirmer?jeton={token}")
    assert response is not None and response.status == 410
    assert page.locator("h1").inner_text() == "Lien expiré"
    back = page.locator("main a[href='/inscription/']", has_text="Remplir le formulaire")
    assert back.is_visible()
    report = axe_violations(page, "lien expiré")
    assert report == "", report


def test_unsubscription_is_applied_once_confirmed_from_the_link(page, base_url, register, sender):
    numero = "+33677665544"
    register.append(INSCRIPTIONS, [{"source": "import", "nom": "Marc", "commune": "Mende",
                                    "telephone": "06 77 66 55 44"}])
    sender.run_once()
    page.goto(base_url + "/desinscription/")
    type_into(page, "#formulaire-desinscription [name=telephone]", "06 77 66 55 44")
    page.click("#formulaire-desinscription [type=submit]")
    page.wait_for_url("**/merci-desinscription/")
    assert WITHOUT_ANSWER["desinscription"] in page.inner_text("main")
    sender.run_once()
    assert row_of(register, numero)["statut"] == schema.ACTIF  # not before the phone confirms
    page.goto(link_for(sender, numero, "desinscription"))
    page.click("button:has-text('Je confirme votre désinscription')")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Désinscription confirmée"
    sender.run_once()
    assert row_of(register, numero)["statut"] == schema.DESINSCRIT


class _EvilPage(BaseHTTPRequestHandler):
    """Another site whose page makes its visitors' browsers post to ours."""

    target = ""

    def do_GET(self) -> None:
        body = (
            '<!DOCTYPE html><html lang="en"><head><title>Win a prize</title></head><body>'
            f'<form method="post" action="{self.target}/desinscription">'
            '<input name="telephone" value="06 77 66 55 44"><button>Go</button></form>'
            "</body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_a_form_on_another_site_cannot_post_to_ours(page, base_url, register):
    handler = type("Evil", (_EvilPage,), {"target": base_url})
    evil = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=evil.serve_forever, daemon=True)
    thread.start()
    before = rows(register, DESINSCRIPTIONS)
    try:
        page.goto(f"http://localhost:{evil.server_address[1]}/")
        with page.expect_navigation():
            page.click("button")
        assert page.locator("h1").inner_text() == "Envoi refusé"
        assert "Rien n’a été enregistré" in page.inner_text("main")
    finally:
        evil.shutdown()
        evil.server_close()
    assert rows(register, DESINSCRIPTIONS) == before


# -- every page and the report, at 360 px and 1280 px ----------------------------------------


def artifact_name(path: str) -> str:
    return path.strip("/").replace("/", "-").removesuffix(".html") or "accueil"


def seen_in_first_screen(page, selector: str) -> bool:
    """True when the element is displayed entirely inside the first screen (no scrolling)."""
    return page.eval_on_selector(
        selector,
        """el => { const r = el.getBoundingClientRect();
                   const s = getComputedStyle(el);
                   return r.width > 0 && r.height > 0 && s.visibility !== 'hidden'
                          && r.top >= 0 && r.bottom <= window.innerHeight; }""",
    )


def menu_fits_one_line(page) -> bool:
    return page.evaluate(
        """() => { const items = [...document.querySelectorAll('.menu-large li')];
                   return items.length > 0
                          && new Set(items.map(li => li.getBoundingClientRect().top)).size === 1
                          && items.every(li => li.getBoundingClientRect().right
                                               <= document.documentElement.clientWidth); }"""
    )


@pytest.mark.parametrize("page", [MOBILE, WIDE], indirect=True, ids=["360px", "1280px"])
def test_every_page_at_phone_and_desktop_width(page, base_url, built_site):
    """0 axe violation, no horizontal scroll, the « 17 » strip on the first screen, the menu
    folded on a phone and on one line on a wide screen; a screenshot of each page."""
    width = page.viewport_size["width"]
    problems: dict[str, list[str]] = {}
    for path in [*built_pages(built_site), "/page-qui-n-existe-pas/"]:
        page.goto(base_url + path)
        found = problems.setdefault(path, [])
        report = axe_violations(page, f"{path} à {width} px")
        if report:
            found.append(report)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > width:
            found.append(f"défilement horizontal ({scroll} px)")
        if not seen_in_first_screen(page, ".urgence-17 a[href='tel:17']"):
            found.append("bandeau 17 hors du premier écran")
        if width < 1000:
            if not seen_in_first_screen(page, ".menu-replie summary"):
                found.append("bouton Menu absent du premier écran")
            if page.is_visible(".menu-large") or page.is_visible(".menu-replie .menu"):
                found.append("menu déplié sur téléphone")
        elif not (menu_fits_one_line(page) and not page.is_visible(".menu-replie")):
            found.append("menu sur plusieurs lignes à 1280 px")
        footer_bottom = page.evaluate(
            "document.querySelector('footer').getBoundingClientRect().bottom + scrollY"
        )
        if footer_bottom < page.viewport_size["height"]:
            found.append(f"bande vide sous le pied de page ({footer_bottom} px)")
        page.screenshot(
            path=str(ARTIFACTS / f"page-{artifact_name(path)}-{width}.png"), full_page=True
        )
    assert {path: found for path, found in problems.items() if found} == {}


def test_menu_folds_and_opens_with_the_keyboard_on_a_phone(page, base_url):
    page.goto(base_url + "/")
    summary = ".menu-replie summary"
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.menu-replie summary')"):
            break
    else:
        pytest.fail("le bouton Menu n'est pas atteint au clavier")
    outline = page.eval_on_selector(summary, "el => getComputedStyle(el).outlineStyle")
    assert outline != "none", "focus invisible sur le bouton Menu"
    assert not page.is_visible(".menu-replie .menu a[href='/questions-frequentes/']")
    page.keyboard.press("Enter")
    assert page.get_attribute(".menu-replie", "open") is not None
    assert page.is_visible(".menu-replie .menu a[href='/questions-frequentes/']")
    page.screenshot(path=str(ARTIFACTS / "menu-ouvert-360.png"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Accueil"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Comment ça marche"
    page.keyboard.press("Enter")
    page.wait_for_url("**/comment-fonctionne-une-alerte/")
    # Closed again on the new page, and Space toggles it like a button.
    page.focus(summary)
    page.keyboard.press("Space")
    assert page.get_attribute(".menu-replie", "open") is not None
    page.keyboard.press("Space")
    assert page.get_attribute(".menu-replie", "open") is None


@pytest.mark.parametrize("page", [WIDE], indirect=True, ids=["1280px"])
def test_menu_by_keyboard_on_a_wide_screen(page, base_url):
    page.goto(base_url + "/")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "Questions fréquentes":
            break
    else:
        pytest.fail("le lien Questions fréquentes du menu n'est pas atteint au clavier")
    assert page.evaluate("document.activeElement.closest('.menu-large') !== null")
    page.keyboard.press("Enter")
    page.wait_for_url("**/questions-frequentes/")
    assert page.get_attribute(".menu-large a[href='/questions-frequentes/']",
                              "aria-current") == "page"


@pytest.mark.parametrize("page", [MOBILE, WIDE], indirect=True, ids=["360px", "1280px"])
def test_report_reads_on_a_phone_and_a_wide_screen(page, network):
    """The préfecture's report, opened from the file alone: accessible, no horizontal scroll."""
    width = page.viewport_size["width"]
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(network["rapport"].as_uri())
    assert [url for url in requests if not url.startswith("file:")] == []
    report = axe_violations(page, f"rapport à {width} px")
    assert not report, report
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert page.locator("svg[role=img]").count() == 4
    assert page.locator("table[aria-labelledby=tableau-diffusees] tbody tr").count() == 5
    # The wide table scrolls inside its own keyboard-reachable region, not the page.
    region = page.locator("div.tableau[aria-labelledby=tableau-diffusees]")
    assert region.get_attribute("tabindex") == "0"
    page.screenshot(path=str(ARTIFACTS / f"rapport-{width}.png"), full_page=True)


# -- layout at the widths of the browser review: 360, 1024, 1100 and 1280 px -----------------

LAYOUT_WIDTHS = [{"width": w, "height": 800} for w in (360, 1024, 1100, 1280)]


def overflowing_menu_links(page) -> list[str]:
    """The visible menu links that stick out of the window, or are cut by it."""
    return page.evaluate(
        """() => [...document.querySelectorAll('.menu a')]
                 .filter(a => a.getClientRects().length > 0)
                 .filter(a => { const r = a.getBoundingClientRect();
                                return r.left < 0
                                       || r.right > document.documentElement.clientWidth; })
                 .map(a => a.textContent)"""
    )


@pytest.mark.parametrize("page", LAYOUT_WIDTHS, indirect=True,
                         ids=[f"{v['width']}px" for v in LAYOUT_WIDTHS])
def test_no_page_scrolls_sideways_at_the_review_widths(page, base_url, built_site):
    """The menu that ran off the screen between 1024 and 1145 px: every page, every width."""
    width = page.viewport_size["width"]
    problems: dict[str, list[str]] = {}
    for path in [*built_pages(built_site), "/page-qui-n-existe-pas/"]:
        page.goto(base_url + path)
        found = problems.setdefault(path, [])
        scroll, inner = page.evaluate(
            "[document.documentElement.scrollWidth, window.innerWidth]"
        )
        if scroll > inner:
            found.append(f"défilement horizontal ({scroll} px pour {inner} px)")
        cut = overflowing_menu_links(page)
        if cut:
            found.append(f"liens du menu hors de l’écran : {cut}")
    page.goto(base_url + "/")
    page.screenshot(path=str(ARTIFACTS / f"accueil-{width}x800.png"))
    assert {path: found for path, found in problems.items() if found} == {}


@pytest.mark.parametrize("page", [MOBILE], indirect=True, ids=["360px"])
def test_the_signup_button_is_on_the_first_phone_screen(page, base_url):
    page.goto(base_url + "/")
    button = "main a.bouton[href='/inscription/']"
    assert seen_in_first_screen(page, button), "bouton d’inscription hors du premier écran"
    header = page.evaluate("document.querySelector('header').getBoundingClientRect().height")
    assert header <= 200, f"en-tête de {header} px sur un téléphone"
    page.goto(base_url + "/inscription/")
    to_form = "main a.bouton[href='#formulaire-inscription']"
    assert seen_in_first_screen(page, to_form), "bouton vers le formulaire hors du premier écran"
    page.screenshot(path=str(ARTIFACTS / "inscription-premier-ecran-360x800.png"))
    page.focus(to_form)
    page.keyboard.press("Enter")
    assert seen_in_first_screen(page, F["nom"]), "le bouton ne mène pas au formulaire"


def test_the_accessibility_statement_names_the_tools_the_tests_use(page, base_url, browser):
    """The statement says which Chromium and axe-core check the site: the ones running here."""
    page.goto(base_url + "/accessibilite/")
    text = " ".join(page.inner_text("main").split())
    chromium_major = browser.version.split(".")[0]
    assert f"Chromium sans interface (version {chromium_major} " in text
    axe_version = page.evaluate("() => window.axe ? window.axe.version : null")
    if axe_version is None:
        axe_module.Axe().run(page)  # injects axe-core into the page
        axe_version = page.evaluate("window.axe.version")
    major_minor = ".".join(axe_version.split(".")[:2])
    assert f"axe-core (version {major_minor}, par la bibliothèque axe-playwright-python)" in text
    assert "RGAA), version 4.1.2" in text
    for width in ("360", "1024", "1100", "1280"):
        assert width in text
    assert "aucun défaut" not in text.lower()
    links = page.eval_on_selector_all("main a[href*='defenseurdesdroits.fr']",
                                      "els => els.map(a => a.href)")
    assert "https://formulaire.defenseurdesdroits.fr/" in links


# -- on paper: the report in A4 landscape, the figures page --------------------------------

A4_LANDSCAPE_PRINTABLE = {"width": 1032, "height": 700}  # 297 mm less two 12 mm margins, in px


def pdf_text(pdf: bytes) -> tuple[str, list[tuple[float, float]]]:
    """The text of a PDF with its whitespace made single spaces, and each page's size in pt."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = " ".join(page.extract_text() for page in reader.pages)
    sizes = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    return " ".join(text.split()), sizes


def header_texts(page, selector: str) -> list[str]:
    return page.eval_on_selector_all(
        selector, "els => els.map(e => e.textContent.replace(/\\s+/g, ' ').trim())"
    )


def test_the_report_prints_every_column_on_a4_landscape(page, network):
    """Every column of every table is in the PDF text, rows do not split across pages, the data
    tables under the charts are printed open, and no command or column name reaches paper."""
    page.goto(network["rapport"].as_uri())
    columns = header_texts(page, "table thead th")
    assert "Statut" in columns and len(columns) >= 13
    data_headers = header_texts(page, "details.donnees table thead th")
    assert data_headers
    text, sizes = pdf_text(page.pdf(prefer_css_page_size=True, print_background=True))
    assert sizes and all(round(w) == 842 and round(h) == 595 for w, h in sizes), sizes
    absent = [column for column in [*columns, *data_headers] if column not in text]
    assert absent == [], f"colonnes absentes du PDF : {absent}"
    assert "Les données en tableau" not in text  # the summaries are not printed
    for jargon in ("signale_le", "saisie_le", "alerte-message"):
        assert jargon not in text, jargon
    # The same with print media at the printable width: no table wider than the page.
    page.set_viewport_size(A4_LANDSCAPE_PRINTABLE)
    page.emulate_media(media="print")
    too_wide = page.evaluate(
        """() => [...document.querySelectorAll('table')]
                 .filter(t => t.getBoundingClientRect().right > window.innerWidth + 0.5)
                 .map(t => t.getAttribute('aria-labelledby') || t.id || 'tableau')"""
    )
    assert too_wide == []
    breaks = page.eval_on_selector_all(
        "tbody tr", "rows => rows.map(r => getComputedStyle(r).breakInside)"
    )
    assert breaks and set(breaks) == {"avoid"}
    page.screenshot(path=str(ARTIFACTS / "rapport-impression-a4-paysage.png"), full_page=True)


def test_the_figures_page_prints_its_data_tables_open(page, base_url):
    page.goto(base_url + "/reseau-en-chiffres/")
    tables = "details.donnees table"
    assert page.locator(tables).count() >= 3
    assert not page.locator(tables).first.is_visible()  # closed on screen
    page.emulate_media(media="print")
    hidden = [i for i in range(page.locator(tables).count())
              if not page.locator(tables).nth(i).is_visible()]
    assert hidden == [], f"tableaux fermés à l’impression : {hidden}"
    data_headers = header_texts(page, "details.donnees table thead th")
    text, _ = pdf_text(page.pdf())
    assert [h for h in data_headers if h not in text] == []
    assert "Les données en tableau" not in text
