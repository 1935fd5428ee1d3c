"""Build the public site with Pelican and check what a visitor (and the intake server) relies on.

Both builds run once per module: `pelicanconf.py` (development: forms post to the local intake)
and `publishconf.py` (production: forms post to the Apps Script web app from the environment).
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


def _build(out: Path, settings: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-s", settings, "-o", str(out), "-q"],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stdout + result.stderr, result.stdout + result.stderr


@pytest.fixture(scope="module")
def dev_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site-dev")
    _build(out, "pelicanconf.py")
    return out


@pytest.fixture(scope="module")
def prod_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site-prod")
    env = {"ALERTE_APPS_SCRIPT_URL": APPS_SCRIPT_URL, "ALERTE_SITE_URL": PROD_SITE_URL}
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
            if ref.startswith(("tel:", "mailto:", "data:")):
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


def test_no_third_party_references(dev_site):
    offending = []
    for path in html_files(dev_site):
        page = parse(path)
        for tag, attr, ref in page.refs:
            if _external(ref, set()):
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
    from sender.cleaning.communes import current_communes

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
    from sender.cleaning.communes import current_communes
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
            if _external(ref, allowed):
                problems.append(f"{path.relative_to(prod_site)}: <{tag} {attr}={ref}>")
            elif tag == "form":
                assert ref.startswith(APPS_SCRIPT_URL)
            elif ref.startswith(("tel:", "mailto:", "data:")):
                continue
            else:
                target = local_target(prod_site, path, ref, PROD_SITE_URL)
                if target is not None and not target.is_file():
                    problems.append(f"{path.relative_to(prod_site)}: broken {ref}")
    assert not problems, "\n".join(problems)
