"""The intake WSGI application over real HTTP (waitress on 127.0.0.1, port chosen by the OS)."""

from __future__ import annotations

import http.client
import logging
import re
from html import unescape
from urllib.parse import urlsplit

import pytest
import requests

from sender.errors import RegisterUnavailable
from sender.intake.app import create_app
from sender.intake.forms import MAX_BODY
from sender.intake.validation import MESSAGES
from sender.schema import ACTIVITES, DESINSCRIPTIONS, INSCRIPTIONS
from support.formcases import SIGNUP_FORM as GOOD
from support.site import (
    BuggyRegister,
    UnavailableRegister,
    build_fixture_site,
    new_register,
    rows,
    running,
)

SECURITY = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def site(tmp_path):
    return build_fixture_site(tmp_path)


@pytest.fixture
def register(tmp_path):
    reg = new_register(tmp_path / "registre.sqlite")
    yield reg
    reg.close()


@pytest.fixture
def server(site, register):
    site_dir, templates = site
    with running(create_app(register, site_dir, templates, posts_per_minute=1000)) as url:
        yield url


def post(url, path, data, **kw):
    return requests.post(url + path, data=data, allow_redirects=False, timeout=10, **kw)


def field_block(html: str, name: str) -> str:
    match = re.search(rf'<div data-champ="{name}">(.*?)</div>', html, re.DOTALL)
    assert match, f"champ {name} absent"
    return unescape(match.group(1))


def assert_secure(response):
    for name, value in SECURITY.items():
        assert response.headers[name] == value
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "form-action 'self'", "frame-ancestors 'none'"):
        assert directive in csp


# -- static site ---------------------------------------------------------------------------


def test_home_page_is_served_with_security_headers(server):
    response = requests.get(server, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "Bienvenue" in response.text
    assert_secure(response)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("theme/css/site.css", "text/css; charset=utf-8"),
        ("theme/js/formulaire.js", "text/javascript; charset=utf-8"),
        ("feeds/all.atom.xml", "application/atom+xml; charset=utf-8"),
        ("inscription/index.html", "text/html; charset=utf-8"),
    ],
)
def test_content_types_and_cache(server, path, kind):
    response = requests.get(server + path, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == kind
    assert response.headers["Cache-Control"] in ("no-cache", "public, max-age=3600")
    assert_secure(response)


def test_directory_without_slash_is_redirected_and_index_served(server):
    response = requests.get(server + "inscription", allow_redirects=False, timeout=10)
    assert response.status_code == 301
    assert response.headers["Location"] == "/inscription/"
    page = requests.get(server + "inscription/", timeout=10)
    assert page.status_code == 200 and "<!--formulaire-inscription-->" in page.text


def test_redirect_never_leaves_the_site(server):
    conn = http.client.HTTPConnection(urlsplit(server).netloc, timeout=10)
    conn.request("GET", "//inscription")
    response = conn.getresponse()
    response.read()
    assert response.status == 301
    assert response.getheader("Location") == "/inscription/"


def test_head_has_headers_and_no_body(server):
    response = requests.head(server, timeout=10)
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["Content-Length"]) > 0


def test_conditional_get_answers_304(server):
    first = requests.get(server + "theme/css/site.css", timeout=10)
    etag = first.headers["ETag"]
    again = requests.get(
        server + "theme/css/site.css", headers={"If-None-Match": etag}, timeout=10
    )
    assert again.status_code == 304 and again.content == b""


def test_unknown_page_gets_the_site_404(server):
    response = requests.get(server + "nulle-part/", timeout=10)
    assert response.status_code == 404
    assert "Page introuvable" in response.text
    assert_secure(response)


def test_404_without_a_built_404_page_is_french(tmp_path, register):
    site_dir, templates = build_fixture_site(tmp_path)
    (site_dir / "404.html").unlink()
    with running(create_app(register, site_dir, templates)) as url:
        response = requests.get(url + "absent", timeout=10)
    assert response.status_code == 404
    assert "Page introuvable" in response.text and "n’existe pas" in response.text
    assert '<html lang="fr">' in response.text


@pytest.mark.parametrize(
    "raw_path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/theme/../../secret.txt",
        "/theme/%2e%2e/%2e%2e/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%5csecret.txt",
        "/..\\secret.txt",
        "/.cache/hidden.txt",
        "/%2ecache/hidden.txt",
        "/index.html%00.css",
        "/%ff%fe",
        "/" + "a/" * 300,
        "/C:/Windows/win.ini",
        "/etc/passwd",
        "/theme/css/../../../secret.txt",
    ],
)
def test_path_traversal_is_refused(server, raw_path):
    conn = http.client.HTTPConnection(urlsplit(server).netloc, timeout=10)
    conn.putrequest("GET", raw_path, skip_accept_encoding=True)
    conn.endheaders()
    response = conn.getresponse()
    body = response.read()
    assert response.status in (400, 404)
    assert b"SECRET" not in body and "caché".encode() not in body


def test_symlink_out_of_the_site_is_refused(server, site, tmp_path):
    site_dir, _ = site
    (site_dir / "lien.txt").symlink_to(tmp_path / "secret.txt")
    response = requests.get(server + "lien.txt", timeout=10)
    assert response.status_code == 404
    assert "SECRET" not in response.text


@pytest.mark.parametrize(("method", "path"), [("PUT", ""), ("DELETE", "inscription"),
                                              ("POST", "autre"), ("POST", "")])
def test_other_methods_get_405(server, method, path):
    response = requests.request(method, server + path, timeout=10, allow_redirects=False)
    assert response.status_code == 405
    assert "Allow" in response.headers
    assert "Action non prise en charge" in response.text


# -- signup --------------------------------------------------------------------------------


def test_signup_success_redirects_and_stores_the_row(server, register):
    response = post(server, "inscription", GOOD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/merci-inscription/"
    assert response.headers["Cache-Control"] == "no-store"
    assert_secure(response)
    stored = rows(register, INSCRIPTIONS)
    assert len(stored) == 1
    row = stored[0]
    assert row["source"] == "formulaire"
    assert row["nom"] == GOOD["nom"]
    assert row["entreprise"] == GOOD["entreprise"]
    assert row["activite"] == ACTIVITES[0]
    assert row["commune"] == GOOD["commune"]
    assert row["telephone"] == GOOD["telephone"]
    assert row["consentement"].startswith("v1 20")
    assert row["horodatage"] and row["id"]
    confirmation = requests.get(server + "merci-inscription/", timeout=10)
    assert confirmation.status_code == 200


def test_trailing_slash_action_and_charset_parameter_are_accepted(server, register):
    response = post(
        server,
        "inscription/",
        "&".join(f"{k}={requests.utils.quote(v)}" for k, v in GOOD.items()),
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
    )
    assert response.status_code == 303
    assert len(rows(register, INSCRIPTIONS)) == 1


@pytest.mark.parametrize(
    ("changes", "field", "expected"),
    [
        ({"nom": ""}, "nom", MESSAGES["nom"]),
        ({"entreprise": "  "}, "entreprise", "Indiquez le nom de votre entreprise."),
        ({"activite": "Plombier"}, "activite", MESSAGES["activite"]),
        (
            {"commune": "Montpellier"},
            "commune",
            "Choisissez votre commune dans la liste des communes de Lozère.",
        ),
        ({"telephone": "04 66 49 12 34"}, "telephone", "Ce numéro n’est pas un mobile\u00a0:"),
        ({"telephone": "12"}, "telephone", "Ce numéro n’est pas valide"),
        ({"consentement": ""}, "consentement", "Cochez la case pour accepter"),
        ({"nom": "N" * 121}, "nom", "trop long"),
    ],
)
def test_signup_errors_come_back_next_to_the_field(server, register, changes, field, expected):
    data = {**GOOD, **changes}
    response = post(server, "inscription", data)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert_secure(response)
    html = response.text
    assert re.search(r"<title>Erreur\u00a0: S’inscrire", html)
    assert expected in field_block(html, field)
    assert "<p>Avant.</p>" in html and "<p>Après.</p>" in html  # the rest of the page is kept
    assert "<form>vide</form>" not in html
    for other in ("nom", "entreprise", "commune", "telephone"):
        if other != field:
            assert "-erreur" not in field_block(html, other)
            assert f'value="{data[other]}"' in field_block(html, other).replace(
                "&", "&amp;"
            ) or data[other] in field_block(html, other)
    if field != "consentement":
        assert "checked" in field_block(html, "consentement")
    if field != "activite":
        assert "selected" in field_block(html, "activite")
    assert rows(register, INSCRIPTIONS) == []


def test_typed_values_are_kept_and_escaped(server):
    hostile = '"><script>alert(1)</script>'
    response = post(server, "inscription", {**GOOD, "nom": hostile, "consentement": ""})
    assert response.status_code == 400
    assert "<script>alert(1)</script>" not in response.text
    assert "&#34;&gt;&lt;script&gt;" in response.text or "&quot;&gt;&lt;script" in response.text


def test_empty_submission_lists_every_field(server):
    response = post(server, "inscription", {})
    assert response.status_code == 400
    for field in ("nom", "entreprise", "activite", "commune", "telephone", "consentement"):
        assert f'id="{field}-erreur"' in response.text


def test_repeated_keys_first_value_counts(server, register):
    body = "&".join(
        f"{k}={requests.utils.quote(v)}" for k, v in GOOD.items()
    ) + "&nom=Autre+Nom&telephone=0466491234"
    response = post(
        server, "inscription", body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 303
    assert rows(register, INSCRIPTIONS)[0]["nom"] == GOOD["nom"]


def test_formula_text_is_stored_neutralised(server, register):
    data = {**GOOD, "nom": '=HYPERLINK("http://x.invalid";"clic")', "entreprise": "@SUM(A1)"}
    assert post(server, "inscription", data).status_code == 303
    row = rows(register, INSCRIPTIONS)[0]
    assert row["nom"].startswith("'=") and row["entreprise"].startswith("'@")


def test_honeypot_answers_like_success_and_stores_nothing(server, register):
    response = post(server, "inscription", {**GOOD, "site_web": "http://spam.invalid"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/merci-inscription/"
    invalid_spam = post(server, "inscription", {"site_web": "x"})
    assert invalid_spam.status_code == 303
    assert rows(register, INSCRIPTIONS) == []


# -- limits --------------------------------------------------------------------------------


def test_body_over_10_kb_gets_413_by_content_length(server, register):
    response = post(server, "inscription", {**GOOD, "nom": "x" * (MAX_BODY + 10)})
    assert response.status_code == 413
    assert "Envoi trop volumineux" in response.text and "10 Ko" in response.text
    assert_secure(response)
    assert rows(register, INSCRIPTIONS) == []


def test_body_over_10_kb_gets_413_when_chunked(server, register):
    def chunks():
        yield b"nom="
        for _ in range(30):
            yield b"x" * 1024

    response = post(
        server, "inscription", chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert rows(register, INSCRIPTIONS) == []


def test_body_just_under_the_limit_is_read(server):
    filler = "a" * (MAX_BODY - 400)
    response = post(server, "inscription", {**GOOD, "autre": filler})
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b'{"nom": "x"}'),
        ("text/plain", b"nom=x"),
        ("multipart/form-data; boundary=abc", b"--abc--"),
        ("application/x-www-form-urlencoded; charset=ISO-8859-1", b"nom=x"),
        ("", b"nom=x"),
    ],
)
def test_other_content_types_get_415(server, register, content_type, body):
    response = post(server, "inscription", body, headers={"Content-Type": content_type})
    assert response.status_code == 415
    assert "Format d’envoi non pris en charge" in response.text
    assert rows(register, INSCRIPTIONS) == []


def test_rate_limit_per_client_with_retry_after(site, register):
    clock = FakeClock()
    site_dir, templates = site
    app = create_app(register, site_dir, templates, posts_per_minute=3, clock=clock)
    with running(app) as url:
        statuses = [post(url, "inscription", GOOD).status_code for _ in range(3)]
        assert statuses == [303, 303, 303]
        clock.now += 20
        refused = post(url, "inscription", GOOD)
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "40"
        assert "Trop d’envois" in refused.text
        assert_secure(refused)
        assert requests.get(url, timeout=10).status_code == 200  # reading is never limited
        clock.now += 41
        again = [post(url, "inscription", GOOD).status_code for _ in range(3)]
        assert again == [303, 303, 303]
        assert post(url, "desinscription", {"telephone": "0612345678"}).status_code == 429
    assert len(rows(register, INSCRIPTIONS)) == 6
    assert rows(register, DESINSCRIPTIONS) == []


def test_rate_limiter_memory_is_bounded():
    from sender.intake.ratelimit import SlidingWindowLimiter

    clock = FakeClock()
    limiter = SlidingWindowLimiter(2, 60, clock=clock, max_clients=100)
    for i in range(1000):
        assert limiter.hit(f"10.0.{i // 256}.{i % 256}") == 0
    assert len(limiter) <= 100
    assert limiter.hit("a") == 0 and limiter.hit("a") == 0
    assert limiter.hit("a") > 0


# -- register failures ---------------------------------------------------------------------


def test_unavailable_register_gives_503_and_keeps_values(site, register):
    register.append(INSCRIPTIONS, [{"nom": "Déjà là", "telephone": "0611111111"}])
    failing = UnavailableRegister()
    site_dir, templates = site
    with running(create_app(failing, site_dir, templates)) as url:
        response = post(url, "inscription", GOOD)
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert "momentanément indisponible" in response.text
    assert "réessayez dans quelques minutes" in response.text
    assert GOOD["nom"] in field_block(response.text, "nom")
    assert failing.attempts == 1
    assert [r["nom"] for r in rows(register, INSCRIPTIONS)] == ["Déjà là"]


def test_register_factory_failure_gives_503_then_recovers(site, register):
    calls = []

    def factory():
        calls.append(1)
        if len(calls) == 1:
            raise RegisterUnavailable("Feuille injoignable (test).")
        return register

    site_dir, templates = site
    with running(create_app(factory, site_dir, templates)) as url:
        assert post(url, "inscription", GOOD).status_code == 503
        assert post(url, "inscription", GOOD).status_code == 303
        assert post(url, "desinscription", {"telephone": "0612345678"}).status_code == 303
    assert len(calls) == 2
    assert len(rows(register, INSCRIPTIONS)) == 1


def test_genuine_bug_gives_french_500_without_phone_in_logs(site, caplog):
    site_dir, templates = site
    caplog.set_level(logging.INFO, logger="sender.intake")
    with running(create_app(BuggyRegister(), site_dir, templates)) as url:
        response = post(url, "inscription", {**GOOD, "telephone": "06 98 76 54 32"})
    assert response.status_code == 500
    assert "Erreur du serveur" in response.text and "Rien de ce qui avait" in response.text
    assert "bogue" not in response.text
    assert_secure(response)
    logged = caplog.text
    assert "RuntimeError" in logged
    assert "98 76 54 32" not in logged and "0698765432" not in logged
    assert "+33 6 •• •• •• 32" in logged


# -- unsubscribe ---------------------------------------------------------------------------


def test_unsubscribe_stores_a_row_and_reveals_nothing(server, register):
    post(server, "inscription", GOOD)
    known = post(server, "desinscription", {"telephone": "06 12 34 56 78", "site_web": ""})
    unknown = post(server, "desinscription", {"telephone": "07 81 23 45 67"})
    for response in (known, unknown):
        assert response.status_code == 303
        assert response.headers["Location"] == "/merci-desinscription/"
    assert known.content == unknown.content
    ignore = {"Date"}
    assert {k: v for k, v in known.headers.items() if k not in ignore} == {
        k: v for k, v in unknown.headers.items() if k not in ignore
    }
    stored = rows(register, DESINSCRIPTIONS)
    assert [r["telephone"] for r in stored] == ["06 12 34 56 78", "07 81 23 45 67"]
    assert all(r["source"] == "formulaire" and r["traite"] == "" for r in stored)


def test_unsubscribe_errors_and_honeypot(server, register):
    empty = post(server, "desinscription", {"telephone": ""})
    assert empty.status_code == 400
    assert MESSAGES["telephone_desinscription"] in field_block(empty.text, "telephone")
    assert "<title>Erreur\u00a0: Se désinscrire" in empty.text
    garbage = post(server, "desinscription", {"telephone": "n'importe quoi"})
    assert garbage.status_code == 400
    assert "n'importe quoi" in field_block(garbage.text, "telephone")
    spam = post(server, "desinscription", {"telephone": "0612345678", "site_web": "x"})
    assert spam.status_code == 303
    assert rows(register, DESINSCRIPTIONS) == []


def test_missing_form_page_falls_back_to_a_french_page(tmp_path, register):
    site_dir, templates = build_fixture_site(tmp_path)
    (site_dir / "inscription" / "index.html").unlink()
    with running(create_app(register, site_dir, templates)) as url:
        response = post(url, "inscription", {**GOOD, "nom": ""})
    assert response.status_code == 400
    assert MESSAGES["nom"] in field_block(response.text, "nom")
    assert "<title>Erreur\u00a0: S’inscrire au réseau" in response.text


# -- server --------------------------------------------------------------------------------


def test_make_server_binds_a_free_port_and_stops(site, register):
    from sender.intake.server import make_server

    site_dir, templates = site
    server = make_server(create_app(register, site_dir, templates), "127.0.0.1", 0)
    assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}/"
    server.close()  # closing a server that never ran releases the port
    with running(create_app(register, site_dir, templates)) as url:
        assert requests.get(url, timeout=10).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(url, timeout=5)


def test_serve_prints_where_the_site_is_served(site, tmp_path, monkeypatch, capsys):
    from sender.config import Settings
    from sender.intake import server as server_module

    def interrupted(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(server_module.IntakeServer, "run", interrupted)
    site_dir, templates = site
    settings = Settings(register=str(tmp_path / "r.sqlite"))
    server_module.serve(settings, "127.0.0.1", 0, site_dir, templates)
    out = capsys.readouterr().out
    assert re.search(
        r"Site et formulaire servis sur http://127\.0\.0\.1:\d+/ — Ctrl-C pour arrêter\.", out
    )
    assert "Serveur arrêté." in out
    server_module.serve(settings, "127.0.0.1", 0, tmp_path / "absent", templates)
    assert "le site n’est pas construit" in capsys.readouterr().out
