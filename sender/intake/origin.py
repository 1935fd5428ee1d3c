"""Cross-site posts: a form post must come from a page of this site.

Browsers say where a post comes from: `Sec-Fetch-Site` (`same-origin`, `same-site`,
`cross-site`, `none`) and `Origin` (scheme, host and port of the page that posted, `null` for
sandboxed or privacy-sensitive contexts). A post is refused when either shows another site: a
`Sec-Fetch-Site` other than `same-origin` or `none`, or an `Origin` whose host (and port) is
neither the request's `Host` nor the host of ALERTE_SITE_URL (behind a reverse proxy the scheme
seen here may differ, so it is not compared). Forms keep working without JavaScript: a plain
form post from the site carries `same-origin` and the site's own origin.

A request with neither header is accepted: every current browser sends `Origin` with a POST,
so only programs (curl, scripts) omit both, and a program can forge any header anyway. What
protects members from forged requests is the confirmation by their own phone, not this check.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_ALLOWED_FETCH_SITES = {"same-origin", "none"}


def _host(netloc: str, scheme: str = "") -> str:
    """`host[:port]` in lower case, without the scheme's default port."""
    text = netloc.strip().lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default and text.endswith(f":{default}"):
        text = text[: -len(default) - 1]
    return text


def is_cross_site(environ: Mapping[str, Any], site_url: str | None = None) -> bool:
    """True when the request's headers show it was posted from another site."""
    fetch_site = str(environ.get("HTTP_SEC_FETCH_SITE", "") or "").strip().lower()
    if fetch_site and fetch_site not in _ALLOWED_FETCH_SITES:
        return True
    origin = str(environ.get("HTTP_ORIGIN", "") or "").strip()
    if not origin:
        return False
    if origin.lower() == "null":
        return True
    parts = urlsplit(origin)
    if parts.scheme not in _DEFAULT_PORTS or not parts.netloc:
        return True
    allowed = set()
    request_host = str(environ.get("HTTP_HOST", "") or "")
    if request_host:
        scheme = str(environ.get("wsgi.url_scheme", "http"))
        allowed |= {_host(request_host, scheme), _host(request_host, parts.scheme)}
    if site_url:
        site = urlsplit(site_url)
        allowed.add(_host(site.netloc, site.scheme))
    return _host(parts.netloc, parts.scheme) not in allowed
