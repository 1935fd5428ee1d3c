"""The rules behind consent, one by one: tokens, the secret, which requests wait, which messages
go out (once, within the daily limit, after the alerts), cross-site posts, client addresses."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sender import schema
from sender.channels.smslength import sms_size
from sender.cleaning.inscriptions import clean_inscriptions
from sender.config import Settings
from sender.consent import planning
from sender.consent.messages import TEMPLATES, confirmation_url, text_of, whatsapp_body
from sender.consent.requests import ConfirmationRequest, request_ref
from sender.consent.tokens import (
    TokenExpired,
    TokenInvalid,
    load_secret,
    number_digest,
    sign,
    verify,
)
from sender.errors import ConfigurationError
from sender.intake.origin import is_cross_site
from sender.intake.ratelimit import client_key
from sender.tables import Row, Table

ROOT = Path(__file__).resolve().parent.parent
SECRET = b"s" * 48
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


# -- tokens --------------------------------------------------------------------------------------


def test_token_round_trip_carries_no_number_and_fits_a_url():
    token = sign(SECRET, "inscription", "17", "+33612345678", NOW.timestamp() + 3600)
    assert "612345678" not in token and len(token) <= 60
    assert all(c.isalnum() or c in "._-" for c in token)
    read = verify(SECRET, token, NOW.timestamp())
    assert (read.kind, read.ref) == ("inscription", "17")
    assert read.number == number_digest(SECRET, "+33612345678")


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # signature changed
    lambda t: t.replace("i.17.", "i.18.", 1),  # another sign-up
    lambda t: t.replace("i.17.", "d.17.", 1),  # another kind of request
    lambda t: t[:20],  # cut by a messaging app
    lambda t: "",
    lambda t: t + ".x",
    lambda t: t.replace(".", "é", 1),
])
def test_altered_tokens_are_invalid(mangle):
    token = sign(SECRET, "inscription", "17", "+33612345678", NOW.timestamp() + 3600)
    with pytest.raises(TokenInvalid):
        verify(SECRET, mangle(token), NOW.timestamp())


def test_a_token_from_another_secret_is_invalid_and_an_old_one_expired():
    token = sign(SECRET, "desinscription", request_ref("2026-11-30T12:00:00+01:00"),
                 "+33612345678", NOW.timestamp())
    with pytest.raises(TokenInvalid):
        verify(b"t" * 48, token, NOW.timestamp())
    with pytest.raises(TokenExpired) as expired:
        verify(SECRET, token, NOW.timestamp() + 1)
    assert expired.value.token.kind == "desinscription"


def test_secret_file_is_generated_once_with_mode_0600(tmp_path: Path):
    settings = Settings(journal=tmp_path / "donnees" / "journal.sqlite")
    first = load_secret(settings)
    assert len(first) >= 32 and load_secret(settings) == first
    mode = stat.S_IMODE(os.stat(settings.secret_path).st_mode)
    assert mode == 0o600
    os.chmod(settings.secret_path, 0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_secret(settings)


def test_secret_from_the_environment_wins_and_must_be_long(tmp_path: Path):
    settings = Settings.from_env({"ALERTE_SECRET": "x" * 40,
                                  "ALERTE_JOURNAL": str(tmp_path / "journal.sqlite")})
    assert load_secret(settings) == b"x" * 40 and not settings.secret_path.exists()
    with pytest.raises(ConfigurationError, match="trop court"):
        load_secret(Settings.from_env({"ALERTE_SECRET": "court"}))


def test_settings_of_consent_and_proxy():
    settings = Settings.from_env({"ALERTE_CONFIRMATION_JOURS": "3",
                                  "ALERTE_PROXY_DE_CONFIANCE": " 127.0.0.1 "})
    assert settings.confirmation_days == 3 and settings.trusted_proxy == "127.0.0.1"
    assert Settings.from_env({}).site_url == "http://127.0.0.1:8000"
    assert Settings.from_env({}).trusted_proxy is None  # off by default
    with pytest.raises(ConfigurationError, match="ALERTE_PROXY_DE_CONFIANCE"):
        Settings.from_env({"ALERTE_PROXY_DE_CONFIANCE": "*"})
    with pytest.raises(ConfigurationError, match="ALERTE_SITE_URL"):
        Settings.from_env({"ALERTE_SITE_URL": "alerte.example"})


# -- which sign-ups wait -------------------------------------------------------------------------


def table(name, rows):
    return Table(name, list(schema.COLUMNS[name]), [Row(i + 2, r) for i, r in enumerate(rows)])


def form_row(telephone="06 12 34 56 78", **extra):
    return {"id": "", "horodatage": "2026-11-29T10:00:00+01:00", "source": "formulaire",
            "nom": "Anne", "commune": "Mende", "telephone": telephone, **extra}


def clean(rows, unsubscriptions=(), now=NOW, **options):
    ins = table(schema.INSCRIPTIONS, rows)
    report = clean_inscriptions(ins, table(schema.DESINSCRIPTIONS, list(unsubscriptions)),
                                now=now, **options)
    return report, [report.results[r.key] for r in ins.rows]


def test_form_signups_wait_imports_and_typed_rows_do_not():
    report, results = clean([
        form_row(),
        form_row("07 56 12 34 56", source="import"),
        form_row("07 56 12 34 57", source="saisie"),
        form_row("07 56 12 34 58", statut="actif"),  # accepted by an earlier version / the CMA
        form_row("04 66 65 00 00"),  # a landline: no message, invalide as before
    ])
    assert [r.statut for r in results] == [
        schema.EN_ATTENTE, schema.ACTIF, schema.ACTIF, schema.ACTIF, schema.INVALIDE]
    assert [(p.kind, p.numero) for p in report.pending] == [("inscription", "+33612345678")]
    assert report.pending[0].expires_at == datetime(2026, 12, 6, 9, 0, tzinfo=UTC)  # 7 days


def test_the_same_request_twice_gets_one_message():
    report, results = clean([form_row(), form_row()])
    assert [r.statut for r in results] == [schema.EN_ATTENTE, schema.EN_ATTENTE]
    assert len(report.pending) == 1
    assert results[1].remarque == "même demande que l'inscription n° 1, en attente de confirmation"


def test_expired_requests_are_marked_not_deleted():
    report, (result,) = clean([form_row()], now=NOW + timedelta(days=8))
    assert result.statut == schema.EN_ATTENTE and result.remarque.startswith("demande expirée le")
    assert report.pending == []
    _, (shorter,) = clean([form_row()], now=NOW, confirmation_days=0.5)
    assert shorter.remarque.startswith("demande expirée le")


def test_a_failed_confirmation_message_is_said_on_the_row():
    failures = {("confirmation-inscription-1", "+33612345678"): "Ce numéro n'a pas WhatsApp"}
    _, (result,) = clean([form_row()], confirmation_failures=failures)
    assert "le message n'a pas pu être envoyé (Ce numéro n'a pas WhatsApp)" in result.remarque


def test_form_unsubscriptions_wait_for_their_confirmation():
    member = form_row(source="import")
    request = {"horodatage": "2026-11-29T11:00:00+01:00", "telephone": "06 12 34 56 78",
               "source": "formulaire"}
    report, (result,) = clean([member], [request])
    assert result.statut == schema.ACTIF
    assert [p.kind for p in report.pending] == ["desinscription"]
    _, (confirmed,) = clean([member], [{**request, "confirme_le": "2026-11-29T11:05:00+01:00"}])
    assert confirmed.statut == schema.DESINSCRIT
    _, (by_cma,) = clean([member], [{**request, "source": "saisie"}])
    assert by_cma.statut == schema.DESINSCRIT  # the CMA's own request needs no confirmation
    _, (legacy,) = clean([member], [{**request, "traite": "oui"}])
    assert legacy.statut == schema.DESINSCRIT  # applied by an earlier version: still applied


def test_an_unsubscription_for_a_pending_signup_is_without_effect():
    request = {"horodatage": "2026-11-29T11:00:00+01:00", "telephone": "06 12 34 56 78",
               "source": "formulaire"}
    report, _ = clean([form_row()], [request])
    assert [p.kind for p in report.pending] == ["inscription"]  # no message for the request
    traite = [c.value for c in report.changes if c.tab == schema.DESINSCRIPTIONS]
    assert traite == ["sans effet : numéro non inscrit"]


# -- which messages go out -----------------------------------------------------------------------


def request(number: str, minutes: int, kind: str = "inscription") -> ConfirmationRequest:
    made = NOW + timedelta(minutes=minutes)
    return ConfirmationRequest(kind, str(minutes), number, made, made + timedelta(days=7))


def test_budget_keeps_room_for_an_alert_to_every_member():
    members = [f"+3361234{i:04d}" for i in range(240)]
    assert planning.budget(None, set(), members) is None
    assert planning.budget(250, set(), members) == 10
    assert planning.budget(250, set(members[:100]), members) == 10
    assert planning.budget(250, {"+33700000000"}, members) == 9
    assert planning.budget(100, set(), members) == 0


def test_plan_sends_once_oldest_first_within_room_and_per_number_limit():
    pending = [request("+33600000001", 3), request("+33600000002", 1),
               request("+33600000003", 2), request("+33600000004", 4)]
    attempted = {("confirmation-inscription-1", "+33600000002")}
    now = (NOW + timedelta(minutes=10)).timestamp()
    history = [planning.History("confirmation-inscription-9", "+33600000004", "whatsapp",
                                now - 3600)]
    budget = planning.Budget(30, {"whatsapp": 1})
    chosen = planning.plan(
        pending, attempted=attempted, history=history, now=now, limits=budget,
        countries=("FR",), channel_for=lambda r: "whatsapp", room=1,
    )
    assert [r.numero for r, _ in chosen.to_send] == ["+33600000003"]
    assert (chosen.counts["quota"], chosen.counts["number"]) == (1, 1)
    assert len(chosen.notes(budget)) == 2
    contacted = planning.plan(
        pending[:1], attempted=set(), history=[], now=now, limits=budget, countries=("FR",),
        channel_for=lambda r: "whatsapp", room=0, contacted={"+33600000001"},
    )
    assert [r.numero for r, _ in contacted.to_send] == ["+33600000001"]  # counted today


# -- cross-site posts and client addresses --------------------------------------------------------


@pytest.mark.parametrize(("headers", "cross"), [
    ({}, False),
    ({"HTTP_ORIGIN": "http://127.0.0.1:8000"}, False),
    ({"HTTP_ORIGIN": "https://alerte.example"}, False),  # the public address, behind a proxy
    ({"HTTP_ORIGIN": "https://alerte.example:443"}, False),
    ({"HTTP_SEC_FETCH_SITE": "same-origin"}, False),
    ({"HTTP_SEC_FETCH_SITE": "none"}, False),
    ({"HTTP_ORIGIN": "https://evil.example"}, True),
    ({"HTTP_ORIGIN": "http://127.0.0.1:8001"}, True),
    ({"HTTP_ORIGIN": "null"}, True),
    ({"HTTP_ORIGIN": "file://"}, True),
    ({"HTTP_SEC_FETCH_SITE": "cross-site"}, True),
    ({"HTTP_SEC_FETCH_SITE": "same-site"}, True),
    ({"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "https://evil.example"}, True),
])
def test_cross_site_detection(headers, cross):
    environ = {"HTTP_HOST": "127.0.0.1:8000", "wsgi.url_scheme": "http", **headers}
    assert is_cross_site(environ, "https://alerte.example") is cross


def test_clients_are_counted_per_ipv4_address_and_ipv6_64():
    assert client_key("203.0.113.7") == "203.0.113.7"
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7"
    assert client_key("") == "inconnu"


# -- the messages ----------------------------------------------------------------------------------


def test_confirmation_sms_is_gsm7_and_two_parts_with_a_usual_link():
    site = "https://alerte-message.cma-lozere.fr"
    deadline = NOW + timedelta(days=7)
    for kind, ref in (("inscription", "12345"), ("desinscription", request_ref("x"))):
        token = sign(SECRET, kind, ref, "+33612345678", deadline.timestamp())
        size = sms_size(text_of(kind, confirmation_url(site, token), deadline))
        assert size.encoding == "GSM-7" and size.segments <= 2, (kind, size)


def test_production_guide_gives_meta_the_exact_template_texts():
    guide = " ".join((ROOT / "docs" / "production.md").read_text("utf-8").split())
    for kind, name in TEMPLATES.items():
        body = " ".join(whatsapp_body(kind).split())  # its line breaks are spaces in the guide
        assert f"`{name}` : « {body} »" in guide
        assert body.endswith("Réseau Alerte Message")  # the network's signature, as every message
