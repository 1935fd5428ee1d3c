"""The WhatsApp emulator in a process of its own, so that it does not share the sender's CPU
time and interpreter lock (the `dispatch_1000` benchmark).

    with EmulatorProcess(rate=1000, latency=0.05) as wa:
        settings = whatsapp_settings(tmp, register, wa)   # wa.base_url
        ...
        stats = wa.stats()   # accepted, duplicates, first_accept, last_accept (monotonic)

Run as `python -m support.emulators.process --rate 1000 --latency 0.05`, it prints one JSON line
with its base URL and serves until its standard input closes. `GET /_emulator/stats` answers the
counts; the times are `time.monotonic()` values, comparable across processes on Linux.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import urllib.request
from typing import Any

from support.emulators.http import Reply, Request
from support.scenario import ROOT, TimedWhatsAppEmulator

STATS_PATH = "/_emulator/stats"


class _StatsEmulator(TimedWhatsAppEmulator):
    def handle(self, request: Request) -> Reply:
        if request.method == "GET" and request.path == STATS_PATH:
            with self._lock:
                accepted = len(self.accepted)
            return Reply(200, {
                "accepted": accepted,
                "duplicates": self.duplicates(),
                "first_accept": self.first_accept,
                "last_accept": self.last_accept,
                "rate_limited": self.rate_limited,
            })
        return super().handle(request)


class EmulatorProcess:
    """A `python -m support.emulators.process` child; `base_url` like the in-process one."""

    def __init__(self, *, rate: float | None = None, latency: float = 0.0) -> None:
        self.rate = rate
        self.latency = latency
        self._process: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.root_url = ""

    def __enter__(self) -> EmulatorProcess:
        command = [sys.executable, "-m", "support.emulators.process",
                   "--latency", str(self.latency)]
        if self.rate:
            command += ["--rate", str(self.rate)]
        self._process = subprocess.Popen(
            command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process did not start")
        self.base_url = json.loads(line)["base_url"]
        self.root_url = self.base_url.rsplit("/", 1)[0]
        return self

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.root_url + STATS_PATH, timeout=10) as answer:  # nosec B310 - local emulator
            return json.loads(answer.read())

    def __exit__(self, *exc_info: object) -> None:
        if self._process is not None:
            assert self._process.stdin is not None
            self._process.stdin.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


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
