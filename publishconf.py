"""Production settings: `pelican content -s publishconf.py -o output`.

Environment:
- ALERTE_SITE_URL: public address of the site (no trailing slash).
- ALERTE_CMA_…: the CMA's details (see CMA_COORDONNEES in pelicanconf.py). The production build
  stops with the French list of what is missing or invalid: a public site never shows a
  placeholder.
- ALERTE_APPS_SCRIPT_URL: the Apps Script web app `/exec` address (see apps-script/README.md).
  Both forms post to that one address; the form is told apart by the query string
  `?formulaire=inscription` or `?formulaire=desinscription` (Apps Script merges query-string and
  body parameters into `e.parameter`). Without it, the forms keep posting to the local intake
  paths of pelicanconf.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pelicanconf import *  # noqa: F403
from pelicanconf import CMA
from sender.website.details import DetailsMissing, require_complete

try:
    require_complete(CMA)
except DetailsMissing as _error:  # the French list, without a traceback
    raise SystemExit(_error.message) from None

SITEURL = (os.environ.get("ALERTE_SITE_URL") or "https://alerte-message.cma-lozere.fr").rstrip("/")
RELATIVE_URLS = False
FEED_DOMAIN = SITEURL

_APPS_SCRIPT = (os.environ.get("ALERTE_APPS_SCRIPT_URL") or "").strip()
if _APPS_SCRIPT:
    _SEPARATOR = "&" if "?" in _APPS_SCRIPT else "?"
    FORM_ACTION_INSCRIPTION = f"{_APPS_SCRIPT}{_SEPARATOR}formulaire=inscription"
    FORM_ACTION_DESINSCRIPTION = f"{_APPS_SCRIPT}{_SEPARATOR}formulaire=desinscription"
    # /exec answers with a redirect to script.googleusercontent.com: both hosts must be allowed.
    CSP_FORM_ACTION = "'self' https://script.google.com https://script.googleusercontent.com"
