"""One client holding hundreds of idle or trickling connections cannot lock visitors out of
`servir`. The flood comes from 127.0.0.1, the visitor from 127.0.0.2 (another source address on
the loopback: the server sees two clients)."""

from __future__ import annotations

import http.client
import select
import socket
from collections.abc import Iterator

import pytest

from sender.intake.app import create_app
from support.site import build_fixture_site, new_register, running

FLOOD = 300


@pytest.fixture
def url(tmp_path) -> Iterator[str]:
    site_dir, templates = build_fixture_site(tmp_path)
    register = new_register(tmp_path / "registre.sqlite")
    with running(create_app(register, site_dir, templates)) as base:
        yield base
    register.close()


def visitor_get(port: int, path: str = "/") -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5,
                                            source_address=("127.0.0.2", 0))
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.mark.slow
def test_a_visitor_is_served_while_one_address_holds_300_connections(url: str) -> None:
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    flood = []
    try:
        for number in range(FLOOD):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            if number % 2:  # half trickle an unfinished request, half say nothing
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-a: ")
            flood.append(sock)
        assert visitor_get(port) == 200
        assert visitor_get(port, "/inscription/") == 200
    finally:
        for sock in flood:
            sock.close()


@pytest.mark.slow
def test_connections_over_the_cap_are_closed_at_once(url: str) -> None:
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    flood = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(40)]
    closed: set[socket.socket] = set()
    try:
        for _ in range(50):  # until the server has closed the extra ones (bounded)
            readable, _, _ = select.select([s for s in flood if s not in closed], [], [], 0.1)
            for sock in readable:
                try:
                    if sock.recv(1) == b"":
                        closed.add(sock)
                except ConnectionResetError:
                    closed.add(sock)
            if len(closed) >= 20 and not readable:
                break
        assert len(closed) == 40 - 20
        assert visitor_get(port) == 200
    finally:
        for sock in flood:
            sock.close()
