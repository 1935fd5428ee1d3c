"""Time for a normal visitor's GET while one address holds 300 idle or trickling connections.

The intake server (`make_server`, as `alerte-message servir` runs it) serves a small site on
127.0.0.1. One client opens `CONNECTIONS` connections from 127.0.0.1 — half of them send an
unfinished request, half nothing — and keeps them open; a visitor from 127.0.0.2 then fetches
the home page and the sign-up page on a new connection. The figure is the slowest of `TRIALS`
visits, from connect to the last byte.
"""

from __future__ import annotations

import http.client
import socket
import tempfile
import threading
import time
from pathlib import Path

from sender.intake.app import create_app
from sender.intake.server import make_server
from support.site import build_fixture_site, new_register

CONNECTIONS = 300
TRIALS = 3


def _visit(port: int, path: str) -> float:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
                                            source_address=("127.0.0.2", 0))
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} answered {response.status}")
    finally:
        connection.close()
    return time.perf_counter() - started


def run(connections: int = CONNECTIONS) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="bench-slowloris-") as directory:
        tmp = Path(directory)
        site_dir, templates = build_fixture_site(tmp)
        register = new_register(tmp / "registre.sqlite")
        server = make_server(create_app(register, site_dir, templates), "127.0.0.1", 0)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        flood: list[socket.socket] = []
        try:
            for number in range(connections):
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
                if number % 2:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-a: ")
                flood.append(sock)
            time.sleep(0.2)  # let the server accept (or close) them all
            worst = max(
                _visit(server.port, path)
                for _ in range(TRIALS) for path in ("/", "/inscription/")
            )
        finally:
            for sock in flood:
                sock.close()
            server.close()
            thread.join(timeout=10)
            register.close()
    return {"idle_connections": connections, "site_under_slowloris_seconds": round(worst, 3)}


if __name__ == "__main__":
    print(run())
