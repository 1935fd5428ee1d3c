"""Build the public site with Pelican and check what a visitor (and the intake server) relies on.

Both builds run once per module: `pelicanconf.py` (development: forms post to the local intake,
missing CMA details are marked, no figures yet) and `publishconf.py` (production: forms post to
the Apps Script web app, every CMA detail comes from the environment, figures published).
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import jinja2
import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
MAX_PAGE_BYTES = 60 * 1024
APPS_SCRIPT_URL = "https://script.google.com/macros/s/AKfycbTEST/exec"
PROD_SITE_URL = "https://alerte.example.test"
CMA_ENV = {
    "ALERTE_CMA_ORGANISME": "Chambre de Métiers et de l’Artisanat de région Test",
    "ALERTE_CMA_ADRESSE": "1 place Test\n48000 Mende",
    "ALERTE_CMA_TELEPHONE": "04 66 00 00 01",
    "ALERTE_CMA_COURRIEL": "alerte@cma48.example.test",
    "ALERTE_CMA_SIRET": "180 004 800 00009",
    "ALERTE_CMA_DIRECTEUR_PUBLICATION": "Camille Testeur, président",
    "ALERTE_CMA_HEBERGEUR": "Hébergeur Test, 1 rue du Serveur, 75000 Paris, 01 00 00 00 00",
    "ALERTE_CMA_DPO": "Délégué Test, dpo@cma48.example.test",
    "ALERTE_CMA_DATE_ACCESSIBILITE": "15/01/2027",
}

EXPECTED_PAGES = [
    "index.html",
    "404.html",
    "comment-fonctionne-une-alerte/index.html",
    "inscription/index.html",
    "desinscription/index.html",
    "merci-inscription/index.html",
    "merci-desinscription/index.html",
    "sessions-information-formation/index.html",
    "victime-agression/index.html",
    "questions-frequentes/index.html",
    "donnees-personnelles/index.html",
    "accessibilite/index.html",
    "mentions-legales/index.html",
    "actualites/index.html",
]
SIGNUP_FIELDS = {
    "nom", "entreprise", "activite", "commune", "telephone", "consentement", "site_web",
}
VOID = {
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
    "track", "wbr",
}
CSP_START = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"


def _run_pelican(out: Path, settings: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("ALERTE_")}
    return subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-s", settings, "-o", str(out), "-q"],
        cwd=ROOT,
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _build(out: Path, settings: str, env: dict[str, str] | None = None) -> None:
    # Never the developer's own data/statistiques.json: each build says which figures it uses.
    env = {"ALERTE_STATISTIQUES": str(out.parent / "pas-de-chiffres.json"), **(env or {})}
    result = _run_pelican(out, settings, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout + result.stderr, result.stdout + result.stderr


@pytest.fixture(scope="module")
def dev_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site-dev")
    _build(out, "pelicanconf.py")
    return out


@pytest.fixture(scope="module")
def figures(tmp_path_factory) -> Path:
    """A figures file written by the library from a register with some history."""
    from sender.dates import now
    from sender.reporting.aggregate import statistics
    from sender.reporting.store import write_statistics
    from sender.schema import ALERTES, INSCRIPTIONS
    from support.network import network_register

    tmp = tmp_path_factory.mktemp("chiffres")
    register = network_register(tmp / "registre.sqlite")
    tables = register.read([INSCRIPTIONS, ALERTES])
    register.close()
    path = tmp / "statistiques.json"
    write_statistics(
        statistics(tables[INSCRIPTIONS].as_dicts(), tables[ALERTES].as_dicts(), now()), path
    )
    return path


@pytest.fixture(scope="module")
def prod_site(tmp_path_factory, figures) -> Path:
    out = tmp_path_factory.mktemp("site-prod")
    env = {
        "ALERTE_APPS_SCRIPT_URL": APPS_SCRIPT_URL,
        "ALERTE_SITE_URL": PROD_SITE_URL,
        "ALERTE_STATISTIQUES": str(figures),
        **CMA_ENV,
    }
    _build(out, "publishconf.py", env)
    return out


class Page(HTMLParser):
    """Collects what the checks need and records tag-nesting problems."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.headings: list[int] = []
        self.ids: set[str] = set()
        self.tags: dict[str, int] = {}
        self.html_lang: str | None = None
        self.csp: str | None = None
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.inline_styles = 0
        self.inline_scripts = 0
        self.datalists: dict[str, list[str]] = {}
        self.field_names: set[str] = set()
        self._datalist: str | None = None
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        if tag not in VOID:
            self.stack.append(tag)
        if "id" in a:
            if a["id"] in self.ids:
                self.problems.append(f"duplicate id {a['id']}")
            self.ids.add(a["id"])
        if "style" in a:
            self.inline_styles += 1
        for attr in ("href", "src", "action"):
            if a.get(attr) is not None:
                self.refs.append((tag, attr, a[attr]))
        if tag == "html":
            self.html_lang = a.get("lang")
        if tag == "meta" and (a.get("http-equiv") or "").lower() == "content-security-policy":
            self.csp = a.get("content")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "style":
            self.inline_styles += 1
        if tag == "script":
            if a.get("src"):
                self.scripts.append(a["src"])
            else:
                self._in_script = True
        if tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(a["href"])
        if tag == "datalist":
            self._datalist = a.get("id", "")
            self.datalists[self._datalist] = []
        if tag == "option" and self._datalist is not None:
            self.datalists[self._datalist].append(a.get("value", ""))
        if tag in ("input", "select", "textarea") and a.get("name"):
            self.field_names.add(a["name"])

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in VOID:
            self.problems.append(f"end tag for void element </{tag}>")
            return
        if tag == "datalist":
            self._datalist = None
        if not self.stack:
            self.problems.append(f"stray </{tag}>")
        elif self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1]}> (open: {self.stack})")
            if tag in self.stack:
                while self.stack and self.stack.pop() != tag:
                    pass
        else:
            self.stack.pop()

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.inline_scripts += 1

    def close(self):
        super().close()
        if self.stack:
            self.problems.append(f"unclosed tags: {self.stack}")


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text("utf-8"))
    page.close()
    return page


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def local_target(site: Path, page_path: Path, ref: str, site_url: str = "") -> Path | None:
    """The built file a same-site reference points to; None for other schemes/hosts."""
    if site_url and ref.startswith(site_url):
        ref = ref[len(site_url):] or "/"
    parts = urlsplit(ref)
    if parts.scheme or parts.netloc:
        return None
    page_url = "/" + page_path.relative_to(site).as_posix()
    path = urlsplit(urljoin(page_url, parts.path)).path if parts.path else page_url
    target = site / path.lstrip("/")
    if path.endswith("/"):
        target = target / "index.html"
    return target


# --- development build -------------------------------------------------------------------------


def test_expected_pages_exist(dev_site):
    missing = [p for p in EXPECTED_PAGES if not (dev_site / p).is_file()]
    assert not missing
    articles = list((dev_site / "actualites").glob("*/index.html"))
    assert len(articles) >= 2
    assert (dev_site / "theme/css/site.css").is_file()
    # No leftovers from Pelican's default direct templates.
    for unwanted in ("authors.html", "categories.html", "tags.html", "archives.html"):
        assert not (dev_site / unwanted).exists(), unwanted


def test_internal_links_and_assets_resolve(dev_site):
    broken = []
    for path in html_files(dev_site):
        page = parse(path)
        for tag, attr, ref in page.refs:
            if tag == "form":
                continue  # forms post to the intake server, not to a file
            if ref.startswith(("tel:", "sms:", "mailto:", "data:")):
                continue
            target = local_target(dev_site, path, ref)
            if target is None:
                continue
            if not target.is_file():
                broken.append(f"{path.relative_to(dev_site)}: {attr}={ref}")
                continue
            fragment = urlsplit(ref).fragment
            if fragment and target.suffix == ".html" and fragment not in parse(target).ids:
                broken.append(f"{path.relative_to(dev_site)}: {ref} (no #{fragment})")
    assert not broken, "\n".join(broken)


def _external(ref: str, allowed_hosts: set[str]) -> bool:
    parts = urlsplit(ref.strip())
    if parts.scheme in ("http", "https") or ref.strip().startswith("//"):
        return parts.hostname not in allowed_hosts
    return False


# Links a person may follow out of the site (never a resource the page loads): the public
# authorities the accessibility statement must point to.
OUTBOUND_LINK_HOSTS = {"formulaire.defenseurdesdroits.fr", "www.defenseurdesdroits.fr"}


def test_no_third_party_references(dev_site):
    offending = []
    for path in html_files(dev_site):
        page = parse(path)
        for tag, attr, ref in page.refs:
            allowed = OUTBOUND_LINK_HOSTS if (tag, attr) == ("a", "href") else set()
            if _external(ref, allowed):
                offending.append(f"{path.relative_to(dev_site)}: <{tag} {attr}={ref}>")
    for css in dev_site.rglob("*.css"):
        for ref in re.findall(r"url\(\s*['\"]?([^'\")]+)", css.read_text("utf-8")):
            if _external(ref, set()) or ref.startswith("//"):
                offending.append(f"{css.name}: url({ref})")
        assert "@import" not in css.read_text("utf-8")
    assert not offending, "\n".join(offending)


def test_every_page_has_the_basics(dev_site):
    problems = []
    for path in html_files(dev_site):
        page = parse(path)
        name = path.relative_to(dev_site).as_posix()
        if page.html_lang != "fr":
            problems.append(f"{name}: lang={page.html_lang!r}")
        if not page.csp or not page.csp.startswith(CSP_START):
            problems.append(f"{name}: CSP meta missing or wrong: {page.csp!r}")
        elif "form-action 'self'" not in page.csp or "base-uri 'self'" not in page.csp:
            problems.append(f"{name}: CSP lacks form-action/base-uri: {page.csp!r}")
        if page.headings.count(1) != 1:
            problems.append(f"{name}: {page.headings.count(1)} h1")
        for tag in ("main", "header", "nav", "footer"):
            if page.tags.get(tag, 0) < 1:
                problems.append(f"{name}: no <{tag}>")
        if page.tags.get("main", 0) != 1:
            problems.append(f"{name}: {page.tags.get('main', 0)} <main>")
        if page.inline_scripts or page.inline_styles:
            problems.append(f"{name}: inline script/style (blocked by the CSP)")
        if "contenu" not in page.ids:
            problems.append(f"{name}: skip-link target #contenu missing")
        problems.extend(f"{name}: {p}" for p in page.problems)
    assert not problems, "\n".join(problems)


def test_heading_levels_never_skip(dev_site):
    problems = []
    for path in html_files(dev_site):
        levels = parse(path).headings
        name = path.relative_to(dev_site).as_posix()
        if levels and levels[0] != 1:
            problems.append(f"{name}: first heading is h{levels[0]}")
        for before, after in itertools.pairwise(levels):
            if after > before + 1:
                problems.append(f"{name}: h{before} followed by h{after}")
    assert not problems, "\n".join(problems)


def test_page_weight_with_css_and_js(dev_site):
    weights = {}
    for path in html_files(dev_site):
        page = parse(path)
        total = path.stat().st_size
        for ref in page.stylesheets + page.scripts:
            target = local_target(dev_site, path, ref)
            assert target is not None and target.is_file(), ref
            total += target.stat().st_size
        weights[path.relative_to(dev_site).as_posix()] = total
    heavy = {name: size for name, size in weights.items() if size > MAX_PAGE_BYTES}
    assert not heavy


def test_signup_form_contract(dev_site):
    from sender.domain.communes import current_communes

    path = dev_site / "inscription/index.html"
    html = path.read_text("utf-8")
    assert html.count("<!--formulaire-inscription-->") == 1
    assert html.count("<!--/formulaire-inscription-->") == 1
    region = html.split("<!--formulaire-inscription-->")[1]
    region = region.split("<!--/formulaire-inscription-->")[0]
    assert 'method="post"' in region and 'accept-charset="utf-8"' in region
    assert 'action="/inscription"' in region
    page = parse(path)
    assert page.field_names >= SIGNUP_FIELDS
    names = [c.nom for c in current_communes()]
    assert len(names) == 152
    assert sorted(page.datalists["communes-lozere"]) == sorted(names)
    assert 'list="communes-lozere"' in region
    assert re.search(r'<input[^>]*name="telephone"[^>]*type="tel"[^>]*autocomplete="tel"', region)
    assert 'inputmode="tel"' in region
    assert re.search(r'name="consentement" type="checkbox" value="oui"', region)
    assert re.search(r'name="site_web"[^>]*tabindex="-1"[^>]*autocomplete="off"', region)
    assert '<div class="hp" aria-hidden="true">' in region
    assert 'href="/donnees-personnelles/"' in region


def test_unsubscribe_form_contract(dev_site):
    path = dev_site / "desinscription/index.html"
    html = path.read_text("utf-8")
    assert html.count("<!--formulaire-desinscription-->") == 1
    assert html.count("<!--/formulaire-desinscription-->") == 1
    assert 'action="/desinscription"' in html
    assert {"telephone", "site_web"} <= parse(path).field_names


def test_atom_feed_is_well_formed(dev_site):
    feed = dev_site / "feeds/all.atom.xml"
    root = ET.parse(feed).getroot()
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert len(root.findall("a:entry", ns)) >= 2
    listing = (dev_site / "actualites/index.html").read_text("utf-8")
    assert 'href="/feeds/all.atom.xml"' in listing
    assert sorted(p.name for p in (dev_site / "feeds").iterdir()) == ["all.atom.xml"]


# --- the partials as the intake server renders them (plain Jinja2) ------------------------------


@pytest.mark.parametrize("autoescape", [False, True])
def test_partials_render_errors_with_plain_jinja2(autoescape):
    from sender.domain.communes import current_communes
    from sender.schema import ACTIVITES

    # The partials escape every value themselves, with or without autoescape.
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(ROOT / "site/templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
    )
    html = env.get_template("partials/form_inscription.html").render(
        action="/inscription",
        values={"nom": 'Léa "<b>"', "commune": "Marvejols", "activite": ACTIVITES[0]},
        errors={"telephone": "Indiquez un numéro de mobile.", "consentement": "Cochez la case."},
        communes=[c.nom for c in current_communes()],
        activites=list(ACTIVITES),
    )
    assert 'role="alert"' in html
    assert 'href="#inscription-telephone"' in html and 'href="#inscription-consentement"' in html
    assert re.search(
        r'name="telephone"[^>]*aria-invalid="true" '
        r'aria-describedby="inscription-telephone-aide inscription-telephone-erreur"',
        html,
    )
    assert 'id="inscription-telephone-erreur"' in html
    assert 'value="Léa &#34;&lt;b&gt;&#34;"' in html  # kept, escaped once
    assert 'value="Marvejols"' in html
    assert "selected" in html
    page = Page()
    page.feed(html)
    page.close()
    assert not page.problems
    assert page.ids >= {"inscription-telephone", "inscription-consentement"}

    html = env.get_template("partials/form_desinscription.html").render(
        action="/desinscription", values={}, errors={}, communes=[], activites=[]
    )
    assert 'role="alert"' not in html and 'name="telephone"' in html and 'name="site_web"' in html


# --- production build --------------------------------------------------------------------------


def test_publishconf_points_forms_to_apps_script(prod_site):
    signup = (prod_site / "inscription/index.html").read_text("utf-8")
    unsubscribe = (prod_site / "desinscription/index.html").read_text("utf-8")
    assert f'action="{APPS_SCRIPT_URL}?formulaire=inscription"' in signup
    assert f'action="{APPS_SCRIPT_URL}?formulaire=desinscription"' in unsubscribe
    assert "<!--formulaire-inscription-->" in signup
    csp = parse(prod_site / "inscription/index.html").csp
    hosts = "https://script.google.com https://script.googleusercontent.com"
    assert f"form-action 'self' {hosts}" in csp
    assert f'href="{PROD_SITE_URL}/theme/css/site.css"' in signup
    root = ET.parse(prod_site / "feeds/all.atom.xml").getroot()
    links = [el.get("href") for el in root.iter("{http://www.w3.org/2005/Atom}link")]
    assert any(link.startswith(PROD_SITE_URL) for link in links)


def test_production_links_stay_on_site(prod_site):
    allowed = {urlsplit(PROD_SITE_URL).hostname, "script.google.com"}
    problems = []
    for path in html_files(prod_site):
        page = parse(path)
        for tag, attr, ref in page.refs:
            outbound = OUTBOUND_LINK_HOSTS if (tag, attr) == ("a", "href") else set()
            if _external(ref, allowed | outbound):
                problems.append(f"{path.relative_to(prod_site)}: <{tag} {attr}={ref}>")
            elif urlsplit(ref).hostname in outbound:
                continue
            elif tag == "form":
                assert ref.startswith(APPS_SCRIPT_URL)
            elif ref.startswith(("tel:", "sms:", "mailto:", "data:")):
                continue
            else:
                target = local_target(prod_site, path, ref, PROD_SITE_URL)
                if target is not None and not target.is_file():
                    problems.append(f"{path.relative_to(prod_site)}: broken {ref}")
    assert not problems, "\n".join(problems)


# --- the CMA's details: marked in development, required in production ---------------------------

PLACEHOLDER_PAGES = (
    "mentions-legales/index.html", "donnees-personnelles/index.html", "accessibilite/index.html",
)
CONTACT_PAGES = (
    "questions-frequentes/index.html", "victime-agression/index.html",
    "accessibilite/index.html", "sessions-information-formation/index.html",
    "donnees-personnelles/index.html", "merci-inscription/index.html",
)


def test_development_build_marks_missing_details_discreetly(dev_site):
    from sender.website.details import DETAILS

    css = (dev_site / "theme/css/site.css").read_text("utf-8")
    assert "mark" not in re.findall(r"[a-z-]+(?=\{)", css)  # no yellow <mark> styling
    legal = "".join((dev_site / p).read_text("utf-8") for p in PLACEHOLDER_PAGES)
    for detail in DETAILS:
        assert f"[{detail.label}&#160;: à fournir par la CMA]" in legal.replace("\xa0", "&#160;"), (
            detail.key
        )
    for path in html_files(dev_site):
        html = path.read_text("utf-8")
        assert "<mark>" not in html and "À compléter" not in html, path
        assert "[[" not in html, f"marqueur non remplacé dans {path}"


def test_production_build_shows_the_real_details_everywhere(prod_site):
    for path in html_files(prod_site):
        html = path.read_text("utf-8")
        assert "à fournir" not in html and "[[" not in html, path
        assert 'href="tel:0466000001"' in html and "mailto:alerte@cma48.example.test" in html
    legal = (prod_site / "mentions-legales/index.html").read_text("utf-8")
    assert "180 004 800 00009" in legal and "Camille Testeur, président" in legal
    assert "1 place Test<br>48000 Mende" in legal and "Hébergeur Test" in legal
    data = (prod_site / "donnees-personnelles/index.html").read_text("utf-8")
    assert "Chambre de Métiers et de l’Artisanat de région Test</strong>" in data
    assert "Chambre de Métiers et de l’Artisanat de région Test, établissement public" in legal
    assert "Délégué Test, dpo@cma48.example.test" in data
    assert 'data-duree="traces">12\u00a0mois</span>' in data  # from the settings
    assert "15/01/2027" in (prod_site / "accessibilite/index.html").read_text("utf-8")
    for page in CONTACT_PAGES:
        html = (prod_site / page).read_text("utf-8")
        assert "04 66 00 00 01" in html and "alerte@cma48.example.test" in html, page


def test_production_build_refuses_missing_details_with_a_french_list(tmp_path):
    from sender.website.details import DETAILS

    env = {"ALERTE_APPS_SCRIPT_URL": APPS_SCRIPT_URL, **CMA_ENV}
    del env["ALERTE_CMA_DPO"], env["ALERTE_CMA_HEBERGEUR"], env["ALERTE_CMA_ORGANISME"]
    env["ALERTE_CMA_SIRET"] = "123 456"
    result = _run_pelican(tmp_path / "out", "publishconf.py", env)
    assert result.returncode != 0
    assert "Site de production non construit" in result.stderr
    assert "ALERTE_CMA_DPO" in result.stderr and "ALERTE_CMA_HEBERGEUR" in result.stderr
    assert "ALERTE_CMA_ORGANISME" in result.stderr
    assert "ALERTE_CMA_SIRET — 14 chiffres attendus" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "out" / "index.html").exists()
    # And nothing at all: every detail listed, each with its variable.
    result = _run_pelican(tmp_path / "out", "publishconf.py", {})
    assert result.returncode != 0
    for detail in DETAILS:
        assert detail.variable in result.stderr


def test_details_checks():
    from sender.website.details import missing, read_details

    details = read_details({"telephone": "04 66 00 00 02"}, {"ALERTE_CMA_TELEPHONE": ""})
    assert details["telephone"] == "04 66 00 00 02"  # the block, when the variable is empty
    details = read_details({"telephone": "04 66 00 00 02"}, {"ALERTE_CMA_TELEPHONE": "0466000003"})
    assert details["telephone"] == "0466000003"  # the environment wins
    complete = read_details({}, CMA_ENV)
    assert missing(complete) == []
    for key, bad in (("siret", "18000480000008"), ("courriel", "pas-une-adresse"),
                     ("telephone", "04 66"), ("date_accessibilite", "bientôt")):
        problems = missing({**complete, key: bad})
        assert len(problems) == 1 and bad in problems[0], key
    with pytest.raises(Exception, match="rubrique inconnue"):
        read_details({"siren": "1"}, {})


# --- pages true to the software -------------------------------------------------------------------


def _text(site: Path, page: str) -> str:
    html = (site / page).read_text("utf-8").replace("\xa0", " ").replace("&#8239;", " ")
    return re.sub(r"\s+", " ", html)


def test_example_alert_is_the_message_the_sender_composes(dev_site):
    from html import escape

    from sender.channels.smslength import sms_size
    from sender.register.defaults import SIGNATURE
    from sender.website.example import example_messages

    messages = example_messages()
    html = (dev_site / "comment-fonctionne-une-alerte/index.html").read_text("utf-8")
    for text in (messages.whatsapp, messages.sms):
        assert "<br>\n".join(escape(line) for line in text.splitlines()) in html
        assert text.endswith(SIGNATURE)
    assert "Sur WhatsApp" in html and "Par SMS, si le mobile n’a pas WhatsApp" in html
    assert "’" in messages.whatsapp and "'" not in messages.whatsapp
    assert "'" in messages.sms and sms_size(messages.sms).encoding == "GSM-7"


def test_pages_say_what_the_software_does(dev_site):
    everything = " ".join(_text(dev_site, p.relative_to(dev_site).as_posix())
                          for p in html_files(dev_site))
    assert "vérifie chaque demande" not in everything
    assert "Remplissez-le à nouveau" not in everything
    assert "partiellement conforme" not in everything
    faq = _text(dev_site, "questions-frequentes/index.html")
    answer = faq.split("Faut-il avoir WhatsApp ?</h3>")[1].split("</p>")[0]
    assert "<p>Non." in answer and "SMS" in answer
    assert "Réseau Alerte Message" in faq
    for page in ("inscription/index.html", "merci-inscription/index.html",
                 "questions-frequentes/index.html"):
        text = _text(dev_site, page)
        assert "message de confirmation" in text and "lien" in text, page
    merci = _text(dev_site, "merci-inscription/index.html")
    assert "même numéro" in merci and "met à jour vos informations" in merci
    sessions = parse(dev_site / "sessions-information-formation/index.html")
    news = [ref for tag, _, ref in sessions.refs if tag == "a" and "actualites" in ref]
    assert news and all(ref.rstrip("/").endswith(("/actualites", "actualites/index.html"))
                        for ref in news), news



def test_faq_and_victim_page_say_what_is_true(dev_site):
    from sender.delivery.incoming import OPT_OUT_WORDS
    from sender.intake.confirmation import _WHAT

    faq = " ".join(_text(dev_site, "questions-frequentes/index.html").replace("\xa0", " ").split())
    active = faq.split("Quand mon inscription est-elle active ?</h3>")[1].split("</h3>")[0]
    assert f"Je confirme {_WHAT['inscription']}" in active  # the page's button, not the link
    assert "ouvrir le lien ne suffit pas" in active
    assert "2022" not in faq and "940" not in faq  # no figure the figures page would contradict
    stop = faq.split("Comment arrêter de recevoir les alertes ?</h3>")[1].split("<h2")[0]
    assert "« STOP »" in stop and "WhatsApp" in stop and "SMS" in stop
    assert {"stop", "arret", "desinscription"} == set(OPT_OUT_WORDS)
    assert "« ARRÊT »" in stop and "« DÉSINSCRIPTION »" in stop
    who = faq.split("Qui voit mon numéro ?</h3>")[1]
    for who_sees in ("CMA", "police", "gendarmerie", "Google", "hébergeur", "Meta", "Brevo"):
        assert who_sees in who, who_sees
    victim = _text(dev_site, "victime-agression/index.html")
    assert '<a href="sms:114">114</a>' in victim

def test_legal_texts(dev_site):
    accessibility = _text(dev_site, "accessibilite/index.html")
    assert "<strong>non conforme</strong>" in accessibility and "aucun audit" in accessibility
    assert "Plan de mise en accessibilité" in accessibility and 'class="contact"' in accessibility
    data = _text(dev_site, "donnees-personnelles/index.html")
    for right in ("accéder", "rectifier", "effacer", "limitation", "portabilité", "opposer"):
        assert f"<strong>{right}</strong>" in data, right
    for fact in ("Data Privacy Framework", "clauses contractuelles types", "article 28",
                 "Meta", "Google", "Brevo", "États-Unis", "délégué à la protection des données",
                 "traces d’envoi des alertes à votre numéro sont conservées",
                 "après la désinscription"):
        assert fact in data, fact
    footer_links = {label for label, _ in __import__("pelicanconf").FOOTER_LINKS}
    assert "Accessibilité\u00a0: non conforme" in footer_links


def test_header_banner_menu_and_pictograms(dev_site):
    from sender.reporting.charts import CHART_CSS

    for path in html_files(dev_site):
        html = path.read_text("utf-8")
        name = path.relative_to(dev_site).as_posix()
        header = html.split("<header", 1)[1].split("</header>", 1)[0]
        assert 'href="tel:17"' in header.split("</p>", 1)[0], name  # the strip comes first
        for partner in ("CMA de la Lozère", "Police nationale", "Gendarmerie nationale",
                        "Préfecture de la Lozère"):
            assert partner in header, (name, partner)
        assert header.count('aria-label="Menu principal"') == 2  # wide and folded
        assert "<details class=\"menu-replie\">" in header and "<summary>" in header
    home = (dev_site / "index.html").read_text("utf-8")
    home = home.split('<ul class="types-alerte">')[1].split("</ul>")[0]
    pictos = re.findall(r'<svg class="picto"[^>]*aria-hidden="true" focusable="false"', home)
    assert len(pictos) == 5
    assert CHART_CSS in (dev_site / "theme/css/site.css").read_text("utf-8").replace("\n", "")


def test_figures_page_without_figures_says_so(dev_site):
    text = _text(dev_site, "reseau-en-chiffres/index.html")
    assert "Pas encore de chiffres publiés" in text and "class=\"barres\"" not in text


def test_figures_page_with_figures(prod_site):
    page = parse(prod_site / "reseau-en-chiffres/index.html")
    html = (prod_site / "reseau-en-chiffres/index.html").read_text("utf-8")
    charts = re.findall(r'<svg class="barres"[^>]*role="img" aria-labelledby="([^"]+)"', html)
    assert len(charts) == 4
    for ids in charts:
        assert set(ids.split()) <= page.ids
    assert html.count("<table>") == 4 and html.count('<th scope="col">') == 8
    # No group of fewer than 5 people, and the merge is said.
    for trade in ("Bijouterie, horlogerie", "Tabac, presse", "Pharmacie, optique, santé"):
        assert trade not in html
    assert "3 activités sont regroupées dans « Autres »" in html.replace("\xa0", " ")
    assert "99 adhérents actifs" in html
    made = re.search(r"Chiffres arrêtés le (\d\d/\d\d/\d{4} à \d\d h \d\d)\.",
                     html.replace("\xa0", " "))
    assert made, "date des chiffres sans « à » ni « h »"


def test_unreadable_figures_stop_the_build_in_french(tmp_path):
    bad = tmp_path / "statistiques.json"
    bad.write_text('{"format": "autre"}', "utf-8")
    result = _run_pelican(tmp_path / "out", "pelicanconf.py", {"ALERTE_STATISTIQUES": str(bad)})
    assert result.returncode != 0
    assert "n'est pas un fichier de chiffres d'Alerte Message" in result.stderr
    assert "Traceback" not in result.stderr


def test_production_pages_stay_light_with_figures_and_details(prod_site):
    weights = {}
    for path in html_files(prod_site):
        page = parse(path)
        total = path.stat().st_size
        for ref in page.stylesheets + page.scripts:
            target = local_target(prod_site, path, ref, PROD_SITE_URL)
            assert target is not None and target.is_file(), ref
            total += target.stat().st_size
        weights[path.relative_to(prod_site).as_posix()] = total
    assert {name: size for name, size in weights.items() if size > MAX_PAGE_BYTES} == {}
