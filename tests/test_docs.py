"""The documentation checks itself: every setting the code reads is in the settings table of
docs/reglages.md, every command of `alerte-message` is documented, the README stays short, links
between the documents lead somewhere, and the code cites no document outside the repository."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from sender.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
SETTING = re.compile(r"[\"']((?:ALERTE|WHATSAPP|SMS|GOOGLE)_[A-Z0-9_]+)[\"']")
PROJECT_CODE = ("sender", "tests", "bench", "support")
SETTINGS_PAGE = ROOT / "docs" / "reglages.md"
README_MAX_LINES = 150
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _python_files(*folders: str) -> list[Path]:
    return [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]


def _settings_read_by(paths: list[Path]) -> set[str]:
    return {name for path in paths for name in SETTING.findall(path.read_text("utf-8"))}


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _settings_table_rows() -> set[str]:
    names: set[str] = set()
    for line in SETTINGS_PAGE.read_text("utf-8").splitlines():
        if line.startswith("|"):
            names.update(re.findall(r"`((?:ALERTE|WHATSAPP|SMS|GOOGLE)_[A-Z0-9_]+)`", line))
    return names


def _cli_commands() -> list[str]:
    parser = build_parser()
    return sorted(
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    )


def _anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(document: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", document.read_text("utf-8"), flags=re.S)
    return {_anchor(h) for h in re.findall(r"^#{1,6} +(.+?) *#*$", text, re.M)}


def _relative_links(document: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", document.read_text("utf-8"), flags=re.S)
    return [
        target for target in LINK.findall(re.sub(r"`[^`\n]*`", "", text))
        if not re.match(r"[a-z][a-z0-9+.-]*:", target)  # http:, https:, mailto:
    ]


def test_every_setting_read_by_the_code_is_in_the_settings_table():
    used = _settings_read_by(_python_files("sender")) | _settings_read_by(
        [ROOT / "pelicanconf.py", ROOT / "publishconf.py"]
    )
    assert used, "no setting found: the pattern no longer matches the code"
    missing = sorted(used - _settings_table_rows())
    assert not missing, f"settings missing from the table of docs/reglages.md: {missing}"


def test_every_command_of_the_cli_is_documented():
    commands = _cli_commands()
    assert len(commands) > 5, f"the parser's subcommands were not found: {commands}"
    text = "\n".join(path.read_text("utf-8") for path in _documents())
    missing = [name for name in commands if not re.search(rf"alerte-message {name}\b", text)]
    assert not missing, f"commands documented nowhere (README.md, docs/*.md): {missing}"


def test_readme_is_short_enough_to_be_read_to_the_end():
    lines = (ROOT / "README.md").read_text("utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, f"README.md has {len(lines)} lines"


def test_readme_points_to_every_document_in_docs():
    readme = (ROOT / "README.md").read_text("utf-8")
    targets = set(_relative_links(ROOT / "README.md"))
    documents = sorted((ROOT / "docs").glob("*.md"))
    missing = [p.name for p in documents if f"docs/{p.name}" not in targets]
    assert not missing, f"README.md links to none of: {missing}"
    assert "make run" in readme and "make test" in readme


def _broken_links(documents: list[Path]) -> list[str]:
    broken = []
    for document in documents:
        for target in _relative_links(document):
            path, _, anchor = target.partition("#")
            destination = (document.parent / path).resolve() if path else document
            if not destination.exists():
                broken.append(f"{document.name}: {target}")
            elif anchor and destination.suffix == ".md" and anchor not in _anchors(destination):
                broken.append(f"{document.name}: {target} (no such heading)")
    return broken


def test_relative_links_between_the_documents_lead_somewhere():
    assert not _broken_links([*_documents(), ROOT / "apps-script" / "README.md"])


def test_the_link_checker_sees_broken_links(tmp_path: Path):
    (tmp_path / "autre.md").write_text("# Réglages de l'envoi\n", "utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "# Titre à vérifier\n\n[ok](#titre-à-vérifier) [ok](autre.md#réglages-de-lenvoi) "
        "[absent](absent.md) [ancre](autre.md#rien) [web](https://example.org) "
        "`[code](pas-un-lien.md)`\n", "utf-8",
    )
    assert _broken_links([page]) == [
        "page.md: absent.md", "page.md: autre.md#rien (no such heading)",
    ]


def test_code_cites_no_document_outside_the_repository():
    outside = re.compile(r"DESIGN\.md|\.\./shared|shared/reference")
    offenders = [
        str(path.relative_to(ROOT))
        for path in _python_files(*PROJECT_CODE)
        if path.name != "test_docs.py" and outside.search(path.read_text("utf-8"))
    ]
    assert not offenders


def test_architecture_document_names_every_package_of_the_sender():
    architecture = (ROOT / "docs" / "architecture.md").read_text("utf-8")
    packages = sorted(p.parent.name for p in (ROOT / "sender").glob("*/__init__.py"))
    missing = [name for name in packages if f"{name}/" not in architecture]
    assert not missing, f"docs/architecture.md does not describe: {missing}"
