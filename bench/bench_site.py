"""Static site: build time and page weight.

`pelican content -s pelicanconf.py` builds into a temporary directory (the repository's
`output/` is left alone). The weight of a page is its HTML plus every local stylesheet and
script it links (`<link rel="stylesheet" href>`, `<script src>`); images and fonts are not
counted (the site has none). The heaviest page is reported.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from support.scenario import ROOT

_ASSET = re.compile(
    r"""<link\b[^>]*\brel=["']?stylesheet["']?[^>]*\bhref=["']([^"']+)["']"""
    r"""|<link\b[^>]*\bhref=["']([^"']+)["'][^>]*\brel=["']?stylesheet"""
    r"""|<script\b[^>]*\bsrc=["']([^"']+)["']""",
    re.IGNORECASE,
)


def page_weight(page: Path, root: Path) -> int:
    """Bytes of the page and of the local CSS/JS it loads."""
    html = page.read_text(encoding="utf-8", errors="replace")
    total = page.stat().st_size
    seen: set[Path] = set()
    for match in _ASSET.finditer(html):
        url = next(g for g in match.groups() if g)
        if re.match(r"^(?:[a-z]+:)?//|^data:", url, re.IGNORECASE):
            continue  # external or inline: not served by us
        url = url.split("#", 1)[0].split("?", 1)[0]
        target = (root / url.lstrip("/")) if url.startswith("/") else (page.parent / url)
        target = target.resolve()
        if target in seen or not target.is_file():
            continue
        seen.add(target)
        total += target.stat().st_size
    return total


def run() -> dict[str, float]:
    pelican = Path(sys.executable).with_name("pelican")
    with tempfile.TemporaryDirectory(prefix="bench-site-") as directory:
        out = Path(directory) / "output"
        started = time.perf_counter()
        result = subprocess.run(
            [str(pelican), "content", "-s", "pelicanconf.py", "-o", str(out), "-q"],
            cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
        )
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"pelican failed: {result.stderr[-2000:]}")
        pages = list(out.rglob("*.html"))
        if not pages:
            raise RuntimeError("pelican built no page")
        heaviest = max(page_weight(page, out) for page in pages)
    return {"build_seconds": round(seconds, 3), "largest_page_kb": round(heaviest / 1024, 1)}


if __name__ == "__main__":
    print(run())
