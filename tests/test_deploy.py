"""The deployment kit in deploy/: the systemd units pass `systemd-analyze verify` without a
single warning, the Caddyfile passes `caddy validate` (the versions Debian bookworm ships), and
both say what the production guide promises (hardening, watchdog, routes, headers). The tools
are Debian packages that `.ci/run` installs: missing locally, the tests skip; in CI they fail."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from sender.intake.app import SECURITY_HEADERS
from sender.intake.forms import FORMS
from support.unavailable import unavailable

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ("alerte-message-servir.service", "alerte-message-surveiller.service")
CADDYFILE = DEPLOY / "Caddyfile"
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
DATA_DIR = "/var/lib/alerte-message"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((DEPLOY / name).read_text("utf-8"))
    return parser


def _systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None or not SYSTEM_UNITS.is_dir():
        unavailable("systemd-analyze absent (paquet Debian systemd)")
    return tool


def _verify(tmp_path: Path, units: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze verify --root` on `units`, in a root holding the system's own units and
    the program where the units expect it (verify checks that ExecStart is executable)."""
    root = tmp_path / "root"
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    program = root / "opt/alerte-message/.venv/bin/alerte-message"
    program.parent.mkdir(parents=True)
    program.write_text("#!/bin/sh\n", encoding="utf-8")
    program.chmod(0o755)
    folder = root / "etc/systemd/system"
    folder.mkdir(parents=True)
    for name, text in units.items():
        (folder / name).write_text(text, encoding="utf-8")
    return subprocess.run(
        [_systemd_analyze(), "verify", f"--root={root}", *(str(folder / n) for n in units)],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0"},
    )


def test_units_pass_systemd_analyze_verify_without_any_warning(tmp_path: Path):
    result = _verify(tmp_path, {n: (DEPLOY / n).read_text("utf-8") for n in UNITS})
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0 and not output, output


def test_systemd_analyze_verify_catches_a_mistyped_key(tmp_path: Path):
    """verify exits 0 on an unknown key: only its output tells, which the test above reads."""
    text = (DEPLOY / UNITS[0]).read_text("utf-8").replace("PrivateTmp=", "PrivateTemp=")
    result = _verify(tmp_path, {UNITS[0]: text})
    assert "PrivateTemp" in result.stdout + result.stderr


@pytest.mark.parametrize("name", UNITS)
def test_units_run_as_a_dedicated_user_with_only_the_data_folder_writable(name: str):
    service = _unit(name)["Service"]
    assert service["User"] == service["Group"] == "alerte-message"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == DATA_DIR
    assert service["Environment"] == f"ALERTE_DOSSIER={DATA_DIR}"
    assert service["NoNewPrivileges"] == "yes"
    assert service["PrivateTmp"] == "yes"
    assert service["EnvironmentFile"] == "/etc/alerte-message/alerte-message.env"
    assert service["RestartPreventExitStatus"] == "78"  # a setting error: do not loop


def test_the_sender_unit_uses_the_watchdog():
    service = _unit(UNITS[1])["Service"]
    assert service["Type"] == "notify"
    assert int(service["WatchdogSec"]) >= 60
    assert service["ExecStart"].endswith("alerte-message surveiller")


def _caddy() -> str:
    tool = shutil.which("caddy")
    if tool is None:
        unavailable("caddy absent (paquet Debian caddy)")
    return tool


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_caddy(), "validate", "--adapter", "caddyfile", "--config", str(path)],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "HOME": str(path.parent), "XDG_DATA_HOME": str(path.parent),
             "XDG_CONFIG_HOME": str(path.parent)},
    )


def _complaints(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.search(r'"level":"(warn|error)"', line)]


def test_caddyfile_is_valid_without_any_warning(tmp_path: Path):
    copy = tmp_path / "Caddyfile"
    shutil.copy(CADDYFILE, copy)
    result = _validate(copy)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Valid configuration" in output
    assert not _complaints(output), output


def test_caddy_validate_catches_a_mistake(tmp_path: Path):
    copy = tmp_path / "Caddyfile"
    copy.write_text(CADDYFILE.read_text("utf-8").replace("file_server", "file_serveur", 1),
                    encoding="utf-8")
    assert _validate(copy).returncode != 0


def test_caddyfile_proxies_what_servir_answers_and_serves_the_rest_itself():
    text = CADDYFILE.read_text("utf-8")
    proxied = re.search(r"@servir \{\s*path ([^\n]+)", text)
    assert proxied is not None
    assert {"/confirmer", "/sante", "/webhooks/whatsapp"} <= set(proxied.group(1).split())
    forms = re.search(r"@formulaires \{\s*method POST\s*path ([^\n]+)", text)
    assert forms is not None and set(FORMS) <= set(forms.group(1).split())
    assert text.count("reverse_proxy 127.0.0.1:8000") == 2
    assert "root * /opt/alerte-message/output" in text and "file_server" in text
    assert re.search(r'Strict-Transport-Security "max-age=\d{8,}', text)


def test_static_pages_get_the_same_security_headers_as_from_servir():
    text = CADDYFILE.read_text("utf-8")
    for name, value in SECURITY_HEADERS:
        assert f'{name} "{value}"' in text, name


ENV_EXAMPLE = DEPLOY / "alerte-message.env.example"


def _env_example() -> dict[str, str]:
    """Variable → the comment lines just above it (set, or commented out with `#NAME=`)."""
    variables: dict[str, str] = {}
    comment = ""
    for line in ENV_EXAMPLE.read_text("utf-8").splitlines():
        match = re.match(r"#?([A-Z][A-Z0-9_]+)=", line)
        if match:
            variables[match.group(1)] = comment
            comment = ""
        elif line.startswith("# ") and not line.startswith("# ---"):
            comment = f"{comment} {line[2:]}".strip()
        elif not line.strip():
            comment = ""
    return variables


def test_the_example_environment_file_lists_every_setting_with_a_french_comment():
    from tests.test_docs import _settings_table_rows

    documented = _settings_table_rows()
    example = _env_example()
    assert documented, "no setting found in docs/reglages.md"
    assert sorted(documented - set(example)) == [], "settings missing from the example"
    assert sorted(set(example) - documented) == [], "settings the reference does not list"
    for name, comment in example.items():
        assert comment and comment[0].isupper(), f"{name} has no comment above it"


def test_the_example_environment_file_is_what_systemd_reads():
    """One `NAME=value` per line, no quotes or spaces around `=` (EnvironmentFile syntax)."""
    for line in ENV_EXAMPLE.read_text("utf-8").splitlines():
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*=\S*", line), line


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_caddy_serves_the_site_and_proxies_servirs_routes_with_the_visitors_address(
    tmp_path: Path,
):
    """The Caddyfile run for real on 127.0.0.1 (plain HTTP, no certificate), in front of a
    local stand-in for `servir` that echoes what it receives."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import requests

    seen: list[tuple[str, str, str | None]] = []

    class Servir(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            seen.append((self.command, self.path, self.headers.get("X-Forwarded-For")))
            self.send_response(200)
            self.send_header("Content-Length", "6")
            self.end_headers()
            self.wfile.write(b"servir")

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Servir)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    site = tmp_path / "output"
    (site / "inscription").mkdir(parents=True)
    (site / "index.html").write_text("<p>accueil</p>", encoding="utf-8")
    (site / "inscription" / "index.html").write_text("<p>formulaire</p>", encoding="utf-8")
    (site / "404.html").write_text("<p>introuvable</p>", encoding="utf-8")
    port = _free_port()
    text = CADDYFILE.read_text("utf-8")
    text = text.replace("alerte-message.cma-lozere.fr {", f"http://127.0.0.1:{port} {{")
    text = text.replace("127.0.0.1:8000", f"127.0.0.1:{upstream.server_address[1]}")
    text = text.replace("/opt/alerte-message/output", str(site))
    config = tmp_path / "Caddyfile"
    config.write_text("{\n\tadmin off\n\tauto_https off\n}\n\n" + text, encoding="utf-8")
    caddy = subprocess.Popen(
        [_caddy(), "run", "--adapter", "caddyfile", "--config", str(config)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path),
             "XDG_CONFIG_HOME": str(tmp_path)},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        import time

        deadline = time.monotonic() + 20
        while True:
            try:
                home = requests.get(base + "/", timeout=2)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and caddy.poll() is None, "caddy did not start"
                time.sleep(0.1)
        assert home.status_code == 200 and "accueil" in home.text
        assert home.headers["X-Frame-Options"] == "DENY" and "Content-Security-Policy" in (
            home.headers)
        assert "Strict-Transport-Security" in home.headers
        assert "formulaire" in requests.get(base + "/inscription/", timeout=5).text
        missing = requests.get(base + "/absent/", timeout=5)
        assert missing.status_code == 404 and "introuvable" in missing.text
        for path in ("/sante", "/confirmer?jeton=x", "/webhooks/whatsapp"):
            answer = requests.get(base + path, timeout=5)
            assert answer.text == "servir", path
        assert requests.post(base + "/inscription", data={"a": "b"}, timeout=5).text == "servir"
        spoofed = requests.get(base + "/sante", headers={"X-Forwarded-For": "6.6.6.6"},
                               timeout=5)
        assert spoofed.text == "servir"
        assert {path.split("?")[0] for _, path, _ in seen} == {
            "/sante", "/confirmer", "/webhooks/whatsapp", "/inscription"}
        assert all(address == "127.0.0.1" for _, _, address in seen)  # never the visitor's claim
    finally:
        caddy.terminate()
        caddy.wait(timeout=10)
        upstream.shutdown()
        upstream.server_close()
