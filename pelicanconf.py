"""Pelican settings for the public site (development build).

Build: `.venv/bin/pelican content -s pelicanconf.py -o output`.
Production overrides live in `publishconf.py`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:  # the `sender` package lives next to this file
    sys.path.insert(0, str(_HERE))

from sender.domain.communes import current_communes  # noqa: E402
from sender.errors import InputError  # noqa: E402
from sender.reporting.store import DEFAULT_PATH as _STATISTICS  # noqa: E402
from sender.reporting.store import read_statistics  # noqa: E402
from sender.schema import ACTIVITES as _ACTIVITES  # noqa: E402
from sender.website.blocks import Blocks  # noqa: E402
from sender.website.details import read_details  # noqa: E402
from sender.website.pictograms import pictogram  # noqa: E402
from sender.website.whatsapp import from_environment as _whatsapp_signup  # noqa: E402

# -- The CMA's legal and contact details: the ONE place they are written ----------------------
# Each value can also come from the environment (ALERTE_CMA_ADRESSE, ALERTE_CMA_TELEPHONE,
# ALERTE_CMA_COURRIEL, ALERTE_CMA_SIRET, ALERTE_CMA_DIRECTEUR_PUBLICATION, ALERTE_CMA_HEBERGEUR,
# ALERTE_CMA_DPO, ALERTE_CMA_DATE_ACCESSIBILITE, ALERTE_CMA_CONSERVATION_TRACES), which wins.
# Pages use them through markers: [[cma:telephone]], or [[bloc:contact]] for the contact block.
# Missing ones are marked « à fournir par la CMA » here; publishconf.py refuses to build.
CMA_COORDONNEES = {
    "adresse": "",  # several lines allowed
    "telephone": "",
    "courriel": "",
    "siret": "",
    "directeur_publication": "",
    "hebergeur": "",
    "dpo": "",
    "date_accessibilite": "",  # JJ/MM/AAAA
    "conservation_traces": "",  # e.g. « un an »
}
CMA = read_details(CMA_COORDONNEES, os.environ)

AUTHOR = "Chambre de Métiers et de l’Artisanat de la Lozère"
SITENAME = "Alerte Message"
SITESUBTITLE = "Le réseau d’alerte des artisans et commerçants de la Lozère"
SITEURL = ""
RELATIVE_URLS = False

PATH = "content"
THEME = "site"
TIMEZONE = "Europe/Paris"
DEFAULT_LANG = "fr"
DEFAULT_DATE_FORMAT = "%d/%m/%Y"
LOCALE = ("fr_FR.UTF-8", "fr_FR.utf8", "C.UTF-8", "")

# Pages: /inscription/ is content/pages/inscription.md.
PAGE_PATHS = ["pages"]
ARTICLE_PATHS = ["actualites"]
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
ARTICLE_URL = "actualites/{slug}/"
ARTICLE_SAVE_AS = "actualites/{slug}/index.html"
DRAFT_URL = ""
DRAFT_SAVE_AS = ""
DRAFT_PAGE_URL = ""
DRAFT_PAGE_SAVE_AS = ""

# The home page is a page (content/pages/accueil.md saved as index.html);
# the "index" direct template becomes the news listing at /actualites/; "404" gives 404.html.
DIRECT_TEMPLATES = ["index", "404"]
INDEX_SAVE_AS = "actualites/index.html"
INDEX_URL = "actualites/"
DEFAULT_PAGINATION = False
ARCHIVES_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
TAGS_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
AUTHOR_URL = ""
CATEGORY_SAVE_AS = ""
CATEGORY_URL = ""
TAG_SAVE_AS = ""
TAG_URL = ""
YEAR_ARCHIVE_SAVE_AS = ""
MONTH_ARCHIVE_SAVE_AS = ""
DAY_ARCHIVE_SAVE_AS = ""

# One Atom feed for the news; every other feed is off.
FEED_ALL_ATOM = "feeds/all.atom.xml"
FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = None
CATEGORY_FEED_RSS = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TAG_FEED_ATOM = None
TAG_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
TRANSLATION_FEED_RSS = None
FEED_MAX_ITEMS = 20

STATIC_PATHS: list[str] = []
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
    },
    "output_format": "html5",
}

# Forms: the local intake server (sender/intake) answers on these paths.
FORM_ACTION_INSCRIPTION = "/inscription"
FORM_ACTION_DESINSCRIPTION = "/desinscription"

# Content-Security-Policy `form-action` sources ('self' only in development).
CSP_FORM_ACTION = "'self'"

# Data for the signup form (also passed to the intake server's renderer).
COMMUNES = [c.nom for c in current_communes()]
ACTIVITES = list(_ACTIVITES)

# The figures of « Le réseau en chiffres », written by `alerte-message statistiques`.
STATISTIQUES = Path(os.environ.get("ALERTE_STATISTIQUES", "").strip() or _HERE / _STATISTICS)
try:
    _FIGURES = read_statistics(STATISTIQUES)
except InputError as _error:  # stop the build with the French message, not a traceback
    raise SystemExit(f"Construction du site arrêtée : {_error.message}") from None

# Sign-up by WhatsApp (WHATSAPP_NUMERO_PUBLIC): the inscription page offers it first, with its
# click-to-chat link and QR code; None when the network has no public WhatsApp number.
from sender.errors import ConfigurationError  # noqa: E402

try:
    WHATSAPP_INSCRIPTION = _whatsapp_signup(os.environ)
except ConfigurationError as _error:
    raise SystemExit(f"Construction du site arrêtée : {_error.message}") from None

# Markers in pages ([[cma:…]], [[bloc:…]]) and pictograms, for the theme's templates.
JINJA_FILTERS = {"blocs": Blocks(CMA, _FIGURES)}
JINJA_GLOBALS = {"picto": pictogram}
PARTENAIRES = [
    "CMA de la Lozère",
    "Police nationale",
    "Gendarmerie nationale",
    "Préfecture de la Lozère",
]

# Main navigation: (label, page slug; "" is the home page).
MENU = [
    ("Accueil", ""),
    ("Comment ça marche", "comment-fonctionne-une-alerte"),
    ("S’inscrire", "inscription"),
    ("Sessions", "sessions-information-formation"),
    ("Victime d’une agression\u00a0?", "victime-agression"),
    ("Questions fréquentes", "questions-frequentes"),
    ("Actualités", "actualites"),
    ("En chiffres", "reseau-en-chiffres"),
]
FOOTER_LINKS = [
    ("Se désinscrire", "desinscription"),
    ("Le réseau en chiffres", "reseau-en-chiffres"),
    ("Données personnelles", "donnees-personnelles"),
    ("Accessibilité\u00a0: non conforme", "accessibilite"),
    ("Mentions légales", "mentions-legales"),
]
DISPLAY_PAGES_ON_MENU = False
DISPLAY_CATEGORIES_ON_MENU = False

# French month names, independent of the build machine's locales.
MOIS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]
