"""Shared helpers for the intake and browser tests: fixture site, registers, server runner.

Used by tests/test_intake_app.py, tests/test_intake_properties.py and tests/test_browser.py.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from sender.errors import RegisterUnavailable
from sender.intake.server import make_server
from sender.register.base import InitReport, Register
from sender.schema import COLUMNS
from sender.tables import CellChange, Row, Table

PAGE = """<!DOCTYPE html>
<html lang="fr">
<head><meta charset="utf-8"><title>{title} – Alerte Message</title>
<link rel="stylesheet" href="/theme/css/site.css"></head>
<body><header>Alerte Message</header>
<main id="contenu">
<h1>{title}</h1>
{body}
</main>
<footer>CMA de la Lozère</footer>
</body>
</html>
"""

FORM_INSCRIPTION = """<form method="post" action="{{ action }}">
{% if errors %}<div class="erreurs" role="alert"><ul>
{% for nom, message in errors.items() %}<li>{{ message }}</li>{% endfor %}
</ul></div>{% endif %}
<div data-champ="nom"><label for="nom">Nom</label>
{% if errors.nom %}<p id="nom-erreur">{{ errors.nom }}</p>{% endif %}
<input id="nom" name="nom" value="{{ values.get('nom', '') }}"></div>
<div data-champ="entreprise"><label for="entreprise">Entreprise</label>
{% if errors.entreprise %}<p id="entreprise-erreur">{{ errors.entreprise }}</p>{% endif %}
<input id="entreprise" name="entreprise" value="{{ values.get('entreprise', '') }}"></div>
<div data-champ="activite"><label for="activite">Activité</label>
{% if errors.activite %}<p id="activite-erreur">{{ errors.activite }}</p>{% endif %}
<select id="activite" name="activite"><option value="">Choisissez</option>
{% for a in activites %}<option{% if values.get('activite') == a %} selected{% endif %}>
{{- a }}</option>{% endfor %}
</select></div>
<div data-champ="commune"><label for="commune">Commune</label>
{% if errors.commune %}<p id="commune-erreur">{{ errors.commune }}</p>{% endif %}
<input id="commune" name="commune" list="c" value="{{ values.get('commune', '') }}">
<datalist id="c">{% for c in communes %}<option value="{{ c }}">{% endfor %}</datalist></div>
<div data-champ="telephone"><label for="telephone">Téléphone</label>
{% if errors.telephone %}<p id="telephone-erreur">{{ errors.telephone }}</p>{% endif %}
<input id="telephone" name="telephone" value="{{ values.get('telephone', '') }}"></div>
<div data-champ="consentement">
{% if errors.consentement %}<p id="consentement-erreur">{{ errors.consentement }}</p>{% endif %}
<input id="consentement" name="consentement" type="checkbox" value="oui"
{%- if values.get('consentement') == 'oui' %} checked{% endif %}>
<label for="consentement">J’accepte</label></div>
<input name="site_web" value="">
<button>Je m’inscris</button>
</form>"""

FORM_DESINSCRIPTION = """<form method="post" action="{{ action }}">
{% if errors %}<div class="erreurs" role="alert"><ul>
{% for nom, message in errors.items() %}<li>{{ message }}</li>{% endfor %}
</ul></div>{% endif %}
<div data-champ="telephone"><label for="telephone">Téléphone</label>
{% if errors.telephone %}<p id="telephone-erreur">{{ errors.telephone }}</p>{% endif %}
<input id="telephone" name="telephone" value="{{ values.get('telephone', '') }}"></div>
<input name="site_web" value="">
<button>Me désinscrire</button>
</form>"""


def build_fixture_site(root: Path) -> tuple[Path, Path]:
    """Write a small built site and its form partials; return (site_dir, templates_dir)."""
    site = root / "site-output"
    templates = root / "templates"
    (templates / "partials").mkdir(parents=True)
    (templates / "partials" / "form_inscription.html").write_text(FORM_INSCRIPTION, "utf-8")
    (templates / "partials" / "form_desinscription.html").write_text(
        FORM_DESINSCRIPTION, "utf-8"
    )

    def page(rel: str, title: str, body: str) -> None:
        path = site / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PAGE.format(title=title, body=body), "utf-8")

    page("index.html", "Accueil", "<p>Bienvenue.</p>")
    page("404.html", "Page introuvable", "<p>L’adresse demandée n’existe pas.</p>")
    page(
        "inscription/index.html",
        "S’inscrire",
        "<p>Avant.</p>\n<!--formulaire-inscription-->\n<form>vide</form>\n"
        "<!--/formulaire-inscription-->\n<p>Après.</p>",
    )
    page(
        "desinscription/index.html",
        "Se désinscrire",
        "<!--formulaire-desinscription-->\n<form>vide</form>\n<!--/formulaire-desinscription-->",
    )
    page("merci-inscription/index.html", "Merci", "<p>Inscription reçue.</p>")
    page("merci-desinscription/index.html", "Demande reçue", "<p>Demande reçue.</p>")
    (site / "theme" / "css").mkdir(parents=True)
    (site / "theme" / "css" / "site.css").write_text("body { color: #222; }\n", "utf-8")
    (site / "theme" / "js").mkdir(parents=True)
    (site / "theme" / "js" / "formulaire.js").write_text("// rien\n", "utf-8")
    (site / "feeds").mkdir()
    (site / "feeds" / "all.atom.xml").write_text("<feed/>", "utf-8")
    (site / ".cache").mkdir()
    (site / ".cache" / "hidden.txt").write_text("caché", "utf-8")
    (root / "secret.txt").write_text("SECRET-HORS-DU-SITE", "utf-8")
    return site, templates


class MemoryRegister(Register):
    """In-memory register (used when the SQLite backend is not importable, and as a base)."""

    def __init__(self) -> None:
        self.tabs: dict[str, list[dict[str, str]]] = {}
        self._lock = threading.Lock()

    def describe(self) -> str:
        return "registre en mémoire (tests)"

    def read(self, tabs: Sequence[str]) -> dict[str, Table]:
        with self._lock:
            return {
                tab: Table(
                    tab,
                    list(COLUMNS.get(tab, ())),
                    [Row(i + 1, dict(r)) for i, r in enumerate(self.tabs.get(tab, []))],
                )
                for tab in tabs
            }

    def write(self, changes: object) -> int:
        count = 0
        with self._lock:
            for change in changes:  # type: ignore[attr-defined]
                assert isinstance(change, CellChange)
                self.tabs[change.tab][change.key - 1][change.column] = change.value
                count += 1
        return count

    def append(self, tab: str, rows: Sequence[Mapping[str, str]]) -> list[int]:
        with self._lock:
            stored = self.tabs.setdefault(tab, [])
            keys = []
            for row in rows:
                values = {c: str(row.get(c, "") or "") for c in COLUMNS.get(tab, tuple(row))}
                if "id" in values and not values["id"]:
                    values["id"] = str(len(stored) + 1)
                stored.append(values)
                keys.append(len(stored))
            return keys

    def delete_rows(self, tab: str, keys: Sequence[int]) -> int:
        with self._lock:
            stored = self.tabs.get(tab, [])
            gone = {key for key in keys if 1 <= key <= len(stored)}
            self.tabs[tab] = [row for i, row in enumerate(stored, start=1) if i not in gone]
            return len(gone)

    def initialise(self) -> InitReport:
        return InitReport()


def new_register(path: Path) -> Register:
    """SQLiteRegister in `path` when the backend exists, else a MemoryRegister."""
    try:
        from sender.register.sqlite import SQLiteRegister
    except ImportError:  # pragma: no cover - backend being written
        return MemoryRegister()
    register = SQLiteRegister(path)
    register.initialise()
    return register


class UnavailableRegister(MemoryRegister):
    """Reads work; every append fails as a busy sheet or a locked file would."""

    def __init__(self, inner: Register | None = None) -> None:
        super().__init__()
        self.inner = inner
        self.attempts = 0

    def append(self, tab: str, rows: Sequence[Mapping[str, str]]) -> list[int]:
        self.attempts += 1
        raise RegisterUnavailable("Registre verrouillé (test) ; nouvel essai dans un instant.")


class BuggyRegister(MemoryRegister):
    """A programming error inside the backend, with a phone number in the message."""

    def append(self, tab: str, rows: Sequence[Mapping[str, str]]) -> list[int]:
        raise RuntimeError(f"bogue en écrivant {rows[0].get('telephone')}")


class Serving(Protocol):
    url: str

    def run(self) -> None: ...

    def close(self) -> None: ...


@contextmanager
def served(server: Serving, name: str = "intake-test") -> Iterator[str]:
    """Run `server` (an `IntakeServer`, as `make_server` returns) in a thread; yield its base
    URL (ending in /); close it and wait for the thread on the way out."""
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    try:
        yield server.url
    finally:
        server.close()
        thread.join(timeout=10)


@contextmanager
def running(app: object) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 with a free port; yield the base URL (ending in /)."""
    with served(make_server(app, "127.0.0.1", 0)) as url:
        yield url


def rows(register: Register, tab: str) -> list[dict[str, str]]:
    return register.read([tab])[tab].as_dicts()
