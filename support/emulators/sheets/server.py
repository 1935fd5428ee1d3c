"""The emulator's HTTP side: a threaded server on 127.0.0.1 whose handler routes each request,
runs the staff edits due, plays the fault due (drop, error or delay) and answers in JSON."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from support.emulators.sheets import control
from support.emulators.sheets.errors import ApiError
from support.emulators.sheets.routes import route

if TYPE_CHECKING:
    from support.emulators.sheets.emulator import SheetsEmulator


def serve(emulator: SheetsEmulator, port: int = 0
          ) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Start serving `emulator` on `port` (0: one the OS picks); the caller shuts the server
    down."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
    server.daemon_threads = True
    server.block_on_close = False
    server.emulator = emulator  # type: ignore[attr-defined]
    server.handle_error = lambda request, address: None  # type: ignore[method-assign]
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
        name="sheets-emulator",
    )
    thread.start()
    return server, thread


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid a 40 ms stall
    server_version = "SheetsEmulator/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def _dispatch(self, method: str) -> None:
        emulator: SheetsEmulator = self.server.emulator  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        query = parse_qs(split.query, keep_blank_values=True)
        if split.path.startswith(control.PREFIX):
            try:
                body = json.loads(raw) if raw else None
            except json.JSONDecodeError:
                body = None
            self._send(*control.answer(emulator, method, split.path, query, body))
            return
        try:
            kind, key, range_text = route(method, split.path)
        except ApiError as exc:
            emulator.record(method, split.path, "unknown", exc.code, None)
            self._send(exc.code, exc.payload())
            return
        emulator.edits.run_due(kind)
        fault = emulator.fault_plan.take(kind)
        if fault is not None and fault.action == "drop":
            emulator.record(method, split.path, kind, 0, "drop")
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault is not None and fault.action == "status":
            emulator.record(method, split.path, kind, fault.status, "status")
            self._send(fault.status, ApiError(fault.status, fault.message).payload())
            return
        try:
            body = json.loads(raw) if raw else None
            status, payload = 200, emulator.handle(kind, key, range_text, query, body)
        except json.JSONDecodeError:
            exc = ApiError(400, "Invalid JSON payload received.")
            status, payload = exc.code, exc.payload()
        except ApiError as exc:
            status, payload = exc.code, exc.payload()
        emulator.record(method, split.path, kind, status, fault.action if fault else None)
        if fault is not None and fault.action == "delay":
            time.sleep(fault.seconds)
        self._send(status, payload)
