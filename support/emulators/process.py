"""Emulators in processes of their own: they do not share the CPU time and interpreter lock
of the code they serve (the `dispatch_1000` benchmark), and they outlive the real
`alerte-message` processes a test or a benchmark starts and kills.

    with EmulatorProcess(rate=1000, latency=0.05) as wa:
        settings = whatsapp_settings(tmp, register, wa)   # wa.base_url
        ...
        stats = wa.stats()   # accepted, duplicates, first_accept, last_accept (monotonic)

Run as `python -m support.emulators.process --rate 1000 --latency 0.05`, the WhatsApp emulator
prints one JSON line with its base URL and serves until its standard input closes. It knows the
alert templates and the consent templates (`confirmation_inscription`…). Its control endpoints:
`GET /_emulator/stats` answers the counts (the times are `time.monotonic()` values, comparable
across processes on Linux); `GET /_emulator/accepted` the messages accepted (number, template,
parameters, wamid, button payload); `POST /_emulator/webhooks` with `{"url", "app_secret",
"delay"}` makes it post signed status webhooks for the messages it accepts from then on.

`ChildProcess` is what both emulator processes share (`SheetsProcess` starts
`python -m support.emulators.sheets`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.request
from typing import Any

from sender.consent.messages import TEMPLATES as CONSENT_TEMPLATES
from support.emulators.http import Reply, Request
from support.scenario import ROOT, TimedWhatsAppEmulator

CONTROL = "/_emulator/"
STATS_PATH = CONTROL + "stats"


class _StatsEmulator(TimedWhatsAppEmulator):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for template in CONSENT_TEMPLATES.values():
            self.add_template(template, parameters=("date_limite", "lien"), quick_reply=True)

    def handle(self, request: Request) -> Reply:
        if request.path.startswith(CONTROL):
            return self._control(request)
        return super().handle(request)

    def _control(self, request: Request) -> Reply:
        name = request.path[len(CONTROL):]
        if request.method == "GET" and name == "stats":
            with self._lock:
                accepted = len(self.accepted)
            poster = self.poster
            return Reply(200, {
                "accepted": accepted,
                "duplicates": self.duplicates(),
                "first_accept": self.first_accept,
                "last_accept": self.last_accept,
                "rate_limited": self.rate_limited,
                "webhooks_pending": poster.pending() if poster else 0,
                "webhooks_posted": poster.posted if poster else 0,
            })
        if request.method == "GET" and name == "accepted":
            with self._lock:
                return Reply(200, {"accepted": [a._asdict() for a in self.accepted]})
        if request.method == "POST" and name == "webhooks":
            options = request.json()
            self.webhooks(options["url"], options["app_secret"],
                          delay=float(options.get("delay", 0.05)))
            return Reply(200, {"done": "webhooks"})
        return Reply(404, {"error": f"no control endpoint {request.method} {request.path}"})


class ChildProcess:
    """A `python -m <module> <arguments>` child that prints one JSON line with its
    `base_url` once it serves, and stops when its standard input closes."""

    module = ""

    def __init__(self, arguments: list[str]) -> None:
        self.arguments = arguments
        self._process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.root_url = ""

    def __enter__(self) -> ChildProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", self.module, *self.arguments],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.module} did not start")
        self.base_url = json.loads(line)["base_url"]
        self.root_url = self.base_url
        return self

    def get(self, path: str) -> dict[str, Any]:
        """A control endpoint's JSON answer (`path` under `/_emulator/`)."""
        url = self.root_url + CONTROL + path
        with urllib.request.urlopen(url, timeout=10) as answer:  # nosec B310 - local emulator
            return json.loads(answer.read())

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            self.root_url + CONTROL + path, data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:  # nosec B310 - local emulator
            return json.loads(answer.read())

    def stats(self) -> dict[str, Any]:
        return self.get("stats")

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


class EmulatorProcess(ChildProcess):
    """The WhatsApp emulator in a child process; `base_url` like the in-process one."""

    module = "support.emulators.process"

    def __init__(self, *, rate: float | None = None, latency: float = 0.0) -> None:
        arguments = ["--latency", str(latency)] + (["--rate", str(rate)] if rate else [])
        super().__init__(arguments)

    def __enter__(self) -> EmulatorProcess:
        super().__enter__()
        self.root_url = self.base_url.rsplit("/", 1)[0]
        return self

    def accepted(self) -> list[dict[str, Any]]:
        return self.get("accepted")["accepted"]

    def webhooks(self, url: str, app_secret: str, *, delay: float = 0.05) -> None:
        self.post("webhooks", {"url": url, "app_secret": app_secret, "delay": delay})


class SheetsProcess(ChildProcess):
    """The Sheets emulator in a child process, with these spreadsheets created empty;
    `base_url` is the value of GOOGLE_SHEETS_API_URL."""

    module = "support.emulators.sheets"

    def __init__(self, *spreadsheets: str, port: int = 0) -> None:
        arguments = ["--port", str(port)]
        for key in spreadsheets:
            arguments += ["--spreadsheet", key]
        super().__init__(arguments)

    def __enter__(self) -> SheetsProcess:
        super().__enter__()
        return self

    def spreadsheet(self, key: str) -> dict[str, Any]:
        return self.get(f"spreadsheet?key={key}")

    def values(self, key: str, tab: str) -> list[list[Any]]:
        tabs = {t["title"]: t for t in self.spreadsheet(key)["tabs"]}
        return tabs[tab]["values"]

    def staff(self, action: str, key: str, tab: str, **options: Any) -> None:
        self.post("staff", {"action": action, "key": key, "tab": tab, **options})

    def refused(self) -> list[dict[str, Any]]:
        """Requests answered with an error (a 400: one Google would refuse)."""
        return self.stats()["refused"]


def main() -> None:
    parser = argparse.ArgumentParser(description="WhatsApp emulator in its own process")
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args()
    emulator = _StatsEmulator(rate_limit=args.rate, latency=args.latency).start()
    print(json.dumps({"base_url": emulator.base_url}), flush=True)
    sys.stdin.read()  # until the parent closes our standard input
    emulator.stop()


if __name__ == "__main__":
    main()
