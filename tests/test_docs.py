"""The documentation checks itself: every setting the code reads is in the README's table, and
the code cites no document outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTING = re.compile(r"[\"']((?:ALERTE|WHATSAPP|SMS|GOOGLE)_[A-Z0-9_]+)[\"']")
PROJECT_CODE = ("sender", "tests", "bench", "support")


def _python_files(*folders: str) -> list[Path]:
    return [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]


def _settings_read_by(paths: list[Path]) -> set[str]:
    return {name for path in paths for name in SETTING.findall(path.read_text("utf-8"))}


def _readme_table_rows() -> set[str]:
    readme = (ROOT / "README.md").read_text("utf-8")
    names: set[str] = set()
    for line in readme.splitlines():
        if line.startswith("|"):
            names.update(re.findall(r"`((?:ALERTE|WHATSAPP|SMS|GOOGLE)_[A-Z0-9_]+)`", line))
    return names


def test_every_setting_read_by_the_code_is_in_the_readme_table():
    used = _settings_read_by(_python_files("sender")) | _settings_read_by(
        [ROOT / "pelicanconf.py", ROOT / "publishconf.py"]
    )
    assert used, "no setting found: the pattern no longer matches the code"
    missing = sorted(used - _readme_table_rows())
    assert not missing, f"settings missing from the README table: {missing}"


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
