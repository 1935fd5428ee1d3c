"""Property tests: hostile bodies never produce a 500 nor store a value a sheet would execute."""

from __future__ import annotations

import http.client
from urllib.parse import quote, quote_from_bytes, urlsplit

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sender.intake.app import create_app
from sender.schema import DESINSCRIPTIONS, INSCRIPTIONS
from sender.text import is_formula
from support.formcases import SIGNUP_FORM as GOOD
from support.site import build_fixture_site, new_register, rows, running

FIELDS = ["nom", "entreprise", "activite", "commune", "telephone", "consentement", "site_web"]
FORMULAS = [
    '=HYPERLINK("http://x.invalid","clic")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "=1+1",
    "\t=1",
    "\r=1",
    "=0612345678",
    "+33 6 12 34 56 78",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "'; DROP TABLE Inscriptions; --",
    "\u202e=1+1",
    "\x00=1",
    " =1+1",
    "\u00a0=1",
    "\ufeff=1",
    "ｆ=1",  # fullwidth letters normalise only in NFKC, not NFC
    "＝1+1",  # fullwidth equals sign
]
ALLOWED = {303, 400, 413}

hostile_text = st.one_of(
    st.sampled_from(FORMULAS),
    st.builds(lambda f, t: f + t, st.sampled_from(FORMULAS), st.text(max_size=30)),
    st.text(max_size=60),
    st.text(alphabet=st.characters(max_codepoint=0x3000), min_size=100, max_size=3000),
)


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    root = tmp_path_factory.mktemp("proprietes")
    site_dir, templates = build_fixture_site(root)
    register = new_register(root / "registre.sqlite")
    app = create_app(register, site_dir, templates, posts_per_minute=1_000_000)
    with running(app) as url:
        yield urlsplit(url).netloc, register
    register.close()


def raw_post(netloc: str, path: str, body: bytes, content_type: str | None = None):
    conn = http.client.HTTPConnection(netloc, timeout=30)
    try:
        headers = {"Content-Length": str(len(body))}
        if content_type is not None:
            headers["Content-Type"] = content_type
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def assert_nothing_executable(register) -> None:
    for tab in (INSCRIPTIONS, DESINSCRIPTIONS):
        for row in rows(register, tab):
            for column, value in row.items():
                assert not is_formula(value), (tab, column, value)


def encode(pairs: list[tuple[str, bytes]]) -> bytes:
    return "&".join(
        quote(key, safe="") + "=" + quote_from_bytes(value, safe="") for key, value in pairs
    ).encode("ascii")


common = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@common
@given(body=st.binary(max_size=4000), path=st.sampled_from(["/inscription", "/desinscription"]))
def test_random_bytes_never_500(target, body, path):
    netloc, register = target
    status, page = raw_post(netloc, path, body, "application/x-www-form-urlencoded")
    assert status in ALLOWED, page[:500]
    assert_nothing_executable(register)


@pytest.mark.slow
@common
@given(
    changes=st.dictionaries(st.sampled_from(FIELDS[:-1]), hostile_text, max_size=4),
    extra=st.lists(
        st.tuples(st.sampled_from([*FIELDS, "autre", "nom[]", ""]), st.binary(max_size=40)),
        max_size=5,
    ),
    path=st.sampled_from(["/inscription", "/desinscription"]),
)
def test_hostile_fields_never_500_nor_stored_as_formula(target, changes, extra, path):
    netloc, register = target
    form = {**GOOD, **changes}
    pairs = [(k, v.encode("utf-8", "surrogatepass")) for k, v in form.items()]
    pairs += [(k, v) for k, v in extra if k != "site_web"]  # repeated keys, invalid UTF-8
    status, page = raw_post(netloc, path, encode(pairs), "application/x-www-form-urlencoded")
    assert status in ALLOWED, page[:500]
    event(f"statut {status}")
    if status == 400:
        assert "Erreur\u00a0:".encode() in page
    assert_nothing_executable(register)


@common
@given(value=st.sampled_from(FORMULAS), field=st.sampled_from(["nom", "entreprise"]))
def test_formulas_in_a_valid_signup_are_stored_quoted(target, value, field):
    netloc, register = target
    before = len(rows(register, INSCRIPTIONS))
    status, _ = raw_post(
        netloc,
        "/inscription",
        encode([(k, v.encode()) for k, v in {**GOOD, field: value}.items()]),
        "application/x-www-form-urlencoded",
    )
    assert status in (303, 400)
    stored = rows(register, INSCRIPTIONS)
    if status == 303 and len(stored) > before:
        assert not is_formula(stored[-1][field])
    assert_nothing_executable(register)


@common
@given(
    size=st.integers(min_value=10 * 1024 + 1, max_value=200_000),
    content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data", None]
    ),
)
def test_huge_bodies_get_413_or_415(target, size, content_type):
    netloc, _register = target
    status, _ = raw_post(netloc, "/inscription", b"nom=" + b"A" * size, content_type)
    assert status in (413, 415)


@common
@given(raw=st.binary(min_size=1, max_size=200))
def test_random_paths_never_500(target, raw):
    netloc, _ = target
    path = "/" + quote_from_bytes(raw, safe="/.%")
    conn = http.client.HTTPConnection(netloc, timeout=30)
    try:
        conn.putrequest("GET", path, skip_accept_encoding=True)
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.status in (200, 301, 400, 404), body[:300]
    assert b"SECRET" not in body
