"""Answers of the intake application: the `Response` value, small French pages, log scrubbing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Final

from sender.intake import pages

NO_STORE: Final = "no-store"
HTML: Final = "text/html; charset=utf-8"
_PHONE_LIKE = re.compile(r"\+?\d[\d\s.\-/()]{6,}\d")


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = HTML
    cache: str = NO_STORE
    headers: list[tuple[str, str]] | None = None


class Answers:
    """Small answers built from the site's pages (mixin; needs `site_dir`)."""

    site_dir: Path

    def _not_found(self) -> Response:
        try:
            body = (self.site_dir / "404.html").read_bytes()
        except OSError:
            return self._message(
                404,
                "Page introuvable",
                ["L’adresse demandée n’existe pas ou a changé."],
                links=pages.HOME_LINKS,
            )
        return Response(404, body, HTML, "no-cache")

    def _message(
        self,
        status: int,
        title: str,
        paragraphs: list[str],
        *,
        links: list[tuple[str, str]] | None = None,
    ) -> Response:
        html = pages.message_page(self.site_dir, title, paragraphs, links=links)
        return Response(status, html.encode("utf-8"))

    def _redirect(self, status: int, location: str, *, cache: str = NO_STORE) -> Response:
        href = escape(location)
        body = (
            '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8"><title>Redirection'
            f'</title></head><body><p><a href="{href}">Continuer</a></p></body></html>\n'
        )
        return Response(status, body.encode("utf-8"), HTML, cache, [("Location", location)])

    def _method_not_allowed(self, allow: str) -> Response:
        response = self._message(
            405,
            "Action non prise en charge",
            ["Cette adresse ne permet pas cette action."],
            links=pages.HOME_LINKS,
        )
        response.headers = [("Allow", allow)]
        return response
