"""Serve the intake application with waitress (local and self-hosted deployments).

Holding connections open is the cheapest attack on a small server: with waitress's defaults,
101 idle connections (100 allowed, closed after 120 s of silence) lock every visitor out. Here
the server accepts up to `CONNECTION_LIMIT` connections, closes idle ones after
`CHANNEL_TIMEOUT` seconds, and closes at once any new connection from an address that already
holds `per_address` of them (`ALERTE_CONNEXIONS_PAR_ADRESSE`): one client, idle or trickling
its request byte by byte, can no longer take every slot. In production the site sits behind a
TLS reverse proxy (docs/production.md), which then holds this line itself: the trusted proxy's
address (`ALERTE_PROXY_DE_CONFIANCE`) is not capped.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import create_server

from sender.config import Settings
from sender.errors import ConfigurationError

if TYPE_CHECKING:
    from sender.journal.asked import SmsRequests

log = logging.getLogger(__name__)

# Bodies above this are refused by waitress itself; ours (10 Ko, French page) is far lower.
WAITRESS_MAX_BODY = 1024 * 1024
CONNECTION_LIMIT = 1000  # well below the usual 1,024 open files once the per-address cap holds
CHANNEL_TIMEOUT = 20  # seconds of silence before an idle connection is closed
CLEANUP_INTERVAL = 5  # seconds between two sweeps for idle connections


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


def _host(addr: object) -> object:
    return addr[0] if isinstance(addr, tuple) and addr else addr


def _same_address(host: object, other: str) -> bool:
    try:
        return ipaddress.ip_address(str(host)) == ipaddress.ip_address(other)
    except ValueError:
        return False


def capped_channels(
    per_address: int, exempt: str | None = None
) -> Callable[..., HTTPChannel | None]:
    """A waitress `channel_class` that closes a new connection at once when its address
    already holds `per_address` open ones (0: no cap). `exempt`, the trusted reverse proxy,
    carries every visitor's connections and is not capped: the proxy holds that line itself."""

    def channel(server: Any, conn: Any, addr: object, adj: Any,
                map: dict[int, Any] | None = None) -> HTTPChannel | None:
        host = _host(addr)
        if per_address > 0 and not (exempt and _same_address(host, exempt)):
            held = sum(1 for c in list(server.active_channels.values()) if _host(c.addr) == host)
            if held >= per_address:
                with contextlib.suppress(OSError):
                    conn.close()
                log.info("connexion refusée : %d connexions déjà ouvertes par une adresse", held)
                return None
        return HTTPChannel(server, conn, addr, adj, map=map)

    return channel


def _bind_error(exc: OSError, host: str, port: int) -> ConfigurationError:
    """The French error of a server that cannot listen on host:port."""
    if exc.errno == errno.EADDRINUSE:
        return ConfigurationError(
            f"Le port {port} de {host} est déjà utilisé (un autre « alerte-message servir » ou "
            f"« demarrer » tourne peut-être) : arrêtez-le, ou choisissez un autre port avec "
            f"--port."
        )
    if exc.errno == errno.EACCES:
        return ConfigurationError(
            f"Pas le droit d'écouter sur le port {port} de {host} : choisissez un port au-dessus "
            "de 1024 (le proxy inverse écoute sur 80 et 443)."
        )
    return ConfigurationError(
        f"Impossible d'écouter sur {host}:{port} ({exc.strerror or exc}) : vérifiez --hote."
    )


def make_server(
    app: Callable[..., Any],
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    trusted_proxy: str | None = None,
    per_address: int = Settings.connections_per_address,
) -> IntakeServer:
    """Bind a waitress server for `app` (port 0 picks a free port; read it from `.port`).

    With `trusted_proxy` (ALERTE_PROXY_DE_CONFIANCE), requests coming from that address get
    the client address its `X-Forwarded-For` names (the last hop, which that proxy added), so
    the per-address form limit counts visitors, not the proxy; from any other address, and
    without the setting, forwarding headers are dropped. `per_address`
    (ALERTE_CONNEXIONS_PAR_ADRESSE) caps the open connections of one address, except the
    trusted proxy's.
    """
    proxy: dict[str, Any] = {}
    if trusted_proxy:
        proxy = {
            "trusted_proxy": trusted_proxy,
            "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-for"},
        }
    try:
        server = create_server(
            app,
            host=host,
            port=port,
            threads=4,
            ident="alerte-message",
            max_request_body_size=WAITRESS_MAX_BODY,
            clear_untrusted_proxy_headers=True,
            connection_limit=CONNECTION_LIMIT,
            channel_timeout=CHANNEL_TIMEOUT,
            cleanup_interval=CLEANUP_INTERVAL,
            asyncore_use_poll=True,  # select() cannot watch file descriptors above 1,023
            **proxy,
        )
    except OSError as exc:
        raise _bind_error(exc, host, port) from exc
    server.channel_class = capped_channels(per_address, exempt=trusted_proxy)
    return IntakeServer(server)


def make_app(
    settings: Settings, site_dir: Path, templates_dir: Path
) -> Callable[..., Any]:
    """The intake application as `servir` and `demarrer` run it, from the settings."""
    from sender.consent.tokens import load_secret
    from sender.health.report import health
    from sender.intake.app import create_app, webhook_for
    from sender.register.factory import open_register

    return create_app(
        lambda: open_register(settings),
        site_dir,
        templates_dir,
        posts_per_minute=settings.form_posts_per_minute,
        secret=lambda: load_secret(settings),
        site_url=settings.site_url,
        webhook=webhook_for(settings),
        health=lambda: health(settings),
        countries=settings.limits.countries,
        whatsapp_number=(
            settings.whatsapp_numero_public if settings.reverse_confirmation else None
        ),
        sms_requests=_sms_requests(settings),
    )


def _sms_requests(settings: Settings) -> Callable[[], SmsRequests] | None:
    """With reverse confirmation and an SMS gateway, the thanks page offers a confirmation by
    SMS (`smsrequest.py`); the requests go into the journal file, opened on first use."""
    if not (settings.reverse_confirmation and settings.sms_api_key and settings.sms_fallback):
        return None
    from sender.journal.asked import SmsRequests

    opened: list[SmsRequests] = []

    def store() -> SmsRequests:
        if not opened:
            opened.append(SmsRequests(settings.journal))
        return opened[0]

    return store


def serve(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8000,
    site_dir: Path | str = Path("output"),
    templates_dir: Path | str = Path("site/templates"),
) -> None:
    """Serve the built site and the forms until Ctrl-C (messages in French on stdout)."""
    site = Path(site_dir)
    if not (site / "index.html").is_file():
        print(
            f"Attention\u00a0: le site n’est pas construit dans {site} "
            "(lancez « make site »). Seuls les formulaires répondront."
        )
    app = make_app(settings, site, Path(templates_dir))
    server = make_server(
        app, host, port,
        trusted_proxy=settings.trusted_proxy, per_address=settings.connections_per_address,
    )
    print(f"Site et formulaire servis sur {server.url} — Ctrl-C pour arrêter.", flush=True)
    print(f"Webhook WhatsApp : {server.url.rstrip('/')}/webhooks/whatsapp", flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        print("Serveur arrêté.", flush=True)
