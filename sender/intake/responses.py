"""Answers of the intake application: the `Response` value and the small French pages."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Final

from sender.intake import pages

NO_STORE: Final = "no-store"
HTML: Final = "text/html; charset=utf-8"


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = HTML
    cache: str = NO_STORE
    headers: list[tuple[str, str]] | None = None


def message_response(
    site_dir: Path,
    status: int,
    title: str,
    paragraphs: list[str],
    *,
    links: list[tuple[str, str]] | None = None,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    """A French page with a heading, paragraphs (plain text) and links, in the site's look."""
    html = pages.message_page(site_dir, title, paragraphs, links=links)
    return Response(status, html.encode("utf-8"), headers=headers)


def not_found(site_dir: Path) -> Response:
    """The built site's `404.html`, or a plain French page without it."""
    try:
        body = (site_dir / "404.html").read_bytes()
    except OSError:
        return message_response(
            site_dir,
            404,
            "Page introuvable",
            ["L’adresse demandée n’existe pas ou a changé."],
            links=pages.HOME_LINKS,
        )
    return Response(404, body, HTML, "no-cache")


def redirect(status: int, location: str, *, cache: str = NO_STORE) -> Response:
    href = escape(location)
    body = (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><title>Redirection'
        f'</title></head><body><p><a href="{href}">Continuer</a></p></body></html>\n'
    )
    return Response(status, body.encode("utf-8"), HTML, cache, [("Location", location)])


def method_not_allowed(site_dir: Path, allow: str) -> Response:
    return message_response(
        site_dir,
        405,
        "Action non prise en charge",
        ["Cette adresse ne permet pas cette action."],
        links=pages.HOME_LINKS,
        headers=[("Allow", allow)],
    )
