"""Serve the intake application with waitress (local and self-hosted deployments)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from waitress import wasyncore
from waitress.server import create_server

from sender.config import Settings

# Bodies above this are refused by waitress itself; ours (10 Ko, French page) is far lower.
WAITRESS_MAX_BODY = 1024 * 1024


class IntakeServer:
    """A waitress server that can be stopped cleanly from another thread.

    `run()` blocks until `close()` is called (or Ctrl-C); `port` is the bound port, useful when
    the server was created with port 0.
    """

    def __init__(self, server: Any) -> None:
        self._server = server
        self._map: dict[int, Any] = getattr(server, "_map", None) or server.map
        self._stop = threading.Event()
        self._running = threading.Event()
        self._finished = threading.Event()
        self._closed = False
        self._close_lock = threading.Lock()

    @property
    def host(self) -> str:
        return str(self._listen()[0])

    @property
    def port(self) -> int:
        return int(self._listen()[1])

    @property
    def url(self) -> str:
        host = self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}/"

    def _listen(self) -> tuple[str, int]:
        if hasattr(self._server, "effective_port"):
            return self._server.effective_host, self._server.effective_port
        return self._server.effective_listen[0]

    def run(self) -> None:
        adj = self._server.adj
        self._running.set()
        try:
            while not self._stop.is_set() and self._map:
                wasyncore.loop(
                    timeout=adj.asyncore_loop_timeout,
                    map=self._map,
                    use_poll=adj.asyncore_use_poll,
                    count=1,
                )
        finally:
            self._shutdown()
            self._finished.set()

    def close(self) -> None:
        """Stop accepting connections, finish running requests and release the port."""
        self._stop.set()
        if self._running.is_set():
            self._wake()
            self._finished.wait(timeout=10)
        else:
            self._shutdown()

    def _wake(self) -> None:
        for dispatcher in list(self._map.values()):
            pull: Callable[[], None] | None = getattr(dispatcher, "pull_trigger", None)
            if pull is not None:
                with contextlib.suppress(OSError):
                    pull()
                return

    def _shutdown(self) -> None:
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._server.task_dispatcher.shutdown(cancel_pending=True, timeout=5)
        wasyncore.close_all(self._map)


def make_server(app: Callable[..., Any], host: str = "127.0.0.1", port: int = 8000) -> IntakeServer:
    """Bind a waitress server for `app` (port 0 picks a free port; read it from `.port`)."""
    server = create_server(
        app,
        host=host,
        port=port,
        threads=4,
        ident="alerte-message",
        max_request_body_size=WAITRESS_MAX_BODY,
        clear_untrusted_proxy_headers=True,
    )
    return IntakeServer(server)


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    site_dir: Path | str = Path("output"),
    templates_dir: Path | str = Path("site/templates"),
) -> None:
    """Serve the built site and the forms until Ctrl-C (messages in French on stdout)."""
    from sender.intake.app import create_app, webhook_for
    from sender.register.factory import open_register

    site = Path(site_dir)
    if not (site / "index.html").is_file():
        print(
            f"Attention\u00a0: le site n’est pas construit dans {site} "
            "(lancez « make site »). Seuls les formulaires répondront."
        )
    app = create_app(
        lambda: open_register(settings),
        site,
        Path(templates_dir),
        posts_per_minute=settings.form_posts_per_minute,
        webhook=webhook_for(settings),
    )
    server = make_server(app, host, port)
    print(f"Site et formulaire servis sur {server.url} — Ctrl-C pour arrêter.", flush=True)
    print(f"Webhook WhatsApp : {server.url.rstrip('/')}/webhooks/whatsapp", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        print("Serveur arrêté.", flush=True)
