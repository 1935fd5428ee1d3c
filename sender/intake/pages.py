"""French HTML pages of the intake server, dressed in the built site's look when possible.

The built `404.html` serves as a shell: its `<main>` content and `<title>` are replaced, so error
pages keep the site's header, navigation, footer and style sheet. Without a built site, a plain
page (no inline style, to respect the Content-Security-Policy) is used instead.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

SITENAME = "Alerte Message"
_MAIN = re.compile(r"(<main\b[^>]*>)(.*?)(</main>)", re.DOTALL | re.IGNORECASE)
_TITLE = re.compile(r"(<title>)(.*?)(</title>)", re.DOTALL | re.IGNORECASE)

_FALLBACK = """<!DOCTYPE html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
</head>
<body>
<main id="contenu">
{body}
</main>
</body>
</html>
"""


def replace_title(html: str, transform: str, *, prefix: bool = False) -> str:
    """Replace the page title, or prefix it when `prefix` is true. `transform` is plain text."""
    def repl(match: re.Match[str]) -> str:
        text = escape(transform, quote=False)
        inner = text + match.group(2) if prefix else text
        return match.group(1) + inner + match.group(3)

    return _TITLE.sub(repl, html, count=1)


def shell_page(site_dir: Path | None, title: str, body_html: str) -> str:
    """A full page whose `<main>` holds `body_html` (trusted HTML) and whose title is `title`."""
    shell = None
    if site_dir is not None:
        try:
            shell = (site_dir / "404.html").read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            shell = None
    full_title = f"{title} – {SITENAME}"
    if shell and _MAIN.search(shell):
        page = _MAIN.sub(
            lambda m: m.group(1) + '\n<div class="cadre texte">\n' + body_html + "\n</div>\n"
            + m.group(3),
            shell,
            count=1,
        )
        return replace_title(page, full_title)
    return _FALLBACK.format(title=escape(full_title, quote=False), body=body_html)


def message_page(
    site_dir: Path | None,
    title: str,
    paragraphs: list[str],
    *,
    links: list[tuple[str, str]] | None = None,
) -> str:
    """A page with a heading, paragraphs (plain text) and links (href, label)."""
    parts = [f"<h1>{escape(title, quote=False)}</h1>"]
    parts += [f"<p>{escape(p, quote=False)}</p>" for p in paragraphs]
    if links:
        items = "".join(
            f'<li><a href="{escape(href)}">{escape(label, quote=False)}</a></li>'
            for href, label in links
        )
        parts.append(f"<ul>{items}</ul>")
    return shell_page(site_dir, title, "\n".join(parts))


HOME_LINKS = [("/", "Revenir à l’accueil")]
