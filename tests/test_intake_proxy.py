"""The per-address form limit behind a reverse proxy (ALERTE_PROXY_DE_CONFIANCE), over HTTP.

Without the setting, `X-Forwarded-For` is ignored (anyone could send one); with it, requests from
the proxy are counted under the client address the proxy adds, IPv6 clients per /64, and the
proxy's own connections — every visitor's — are not capped per address
(ALERTE_CONNEXIONS_PAR_ADRESSE).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from sender.config import Settings
from sender.intake.app import create_app
from sender.intake.server import make_server
from support.site import build_fixture_site, new_register, served

UNSUBSCRIBE = {"telephone": "06 12 34 56 78"}


@contextmanager
def serving(tmp: Path, trusted_proxy: str | None) -> Iterator[str]:
    site, templates = build_fixture_site(tmp)
    register = new_register(tmp / "registre.sqlite")
    app = create_app(register, site, templates, posts_per_minute=2, secret=b"s" * 40)
    try:
        with served(make_server(app, "127.0.0.1", 0, trusted_proxy=trusted_proxy)) as url:
            yield url.rstrip("/")
    finally:
        register.close()


def post(url: str, forwarded: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    return requests.post(url + "/desinscription", data=UNSUBSCRIBE, headers=headers,
                         allow_redirects=False, timeout=10).status_code


def test_without_the_setting_forwarded_addresses_are_not_believed(tmp_path: Path):
    with serving(tmp_path, None) as url:
        codes = [post(url, f"198.51.100.{i}") for i in range(3)]
    assert codes == [303, 303, 429]  # three « clients » are one address: the limit holds


def test_behind_the_trusted_proxy_each_visitor_has_its_own_limit(tmp_path: Path):
    with serving(tmp_path, "127.0.0.1") as url:
        first = [post(url, "198.51.100.1") for _ in range(3)]
        other = post(url, "198.51.100.2")
        spoofed = post(url, "203.0.113.9, 198.51.100.1")  # only the proxy's own hop counts
    assert first == [303, 303, 429]
    assert other == 303
    assert spoofed == 429


def test_ipv6_visitors_are_counted_per_64(tmp_path: Path):
    with serving(tmp_path, "127.0.0.1") as url:
        same_network = [post(url, f"2001:db8:48:1::{i}") for i in range(1, 4)]
        next_network = post(url, "2001:db8:48:2::1")
    assert same_network == [303, 303, 429]
    assert next_network == 303


def _answer_on_connection_number(url: str, held: int) -> bytes:
    """Open `held` connections from 127.0.0.1, then ask for the home page on the last one."""
    port = int(url.rsplit(":", 1)[1])
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(held)]
    try:
        last = sockets[-1]
        try:
            last.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return last.recv(64)
        except (ConnectionResetError, BrokenPipeError):
            return b""
    finally:
        for sock in sockets:
            sock.close()


def test_the_trusted_proxy_is_not_capped_like_one_visitor(tmp_path: Path):
    held = Settings.connections_per_address + 5
    with serving(tmp_path, "127.0.0.1") as url:
        assert _answer_on_connection_number(url, held).startswith(b"HTTP/1.1 ")
    with serving(tmp_path / "sans-proxy", None) as url:
        assert _answer_on_connection_number(url, held) == b""  # closed at once: over the cap
