"""Run every benchmark (`make bench` = `python -m bench.run`), print a table, write results.json.

    python -m bench.run                      # everything, about 3 min on 2 cores
    python -m bench.run --only dispatch,site # some of them (merged into the existing JSON)

Every server is an emulator on 127.0.0.1; every loop is bounded. The process exits with 1 when a
benchmark fails or misses its target (see bench/README.md for what each figure means).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from support.scenario import SHEETS_DISPATCH_BUDGET, SHEETS_IDLE_BUDGET

RESULTS = Path(__file__).resolve().parent / "results.json"

Check = tuple[str, str, Callable[[dict[str, Any]], bool]]  # (figure, target text, test)


def _dispatch(log_dir: Path) -> dict[str, Any]:
    from bench import bench_dispatch

    return bench_dispatch.run()


def _cleaning(log_dir: Path) -> dict[str, Any]:
    from bench import bench_cleaning

    return bench_cleaning.run(100_000)


def _sheets(log_dir: Path) -> dict[str, Any]:
    from bench import bench_sheets

    return bench_sheets.run()


def _latency(log_dir: Path) -> dict[str, Any]:
    from bench import bench_latency

    return bench_latency.run()


def _crash(log_dir: Path) -> dict[str, Any]:
    from bench import bench_crash

    return bench_crash.run(log_dir=log_dir)


def _latency_sheets(log_dir: Path) -> dict[str, Any]:
    from bench import bench_latency

    return bench_latency.run(register="sheets")


def _crash_sheets(log_dir: Path) -> dict[str, Any]:
    from bench import bench_crash

    return bench_crash.run(log_dir=log_dir, register="sheets")


def _faults(log_dir: Path) -> dict[str, Any]:
    from bench import bench_faults

    return bench_faults.run()


def _memory(log_dir: Path) -> dict[str, Any]:
    from bench import bench_memory

    return bench_memory.run(log_dir=log_dir)


def _import(log_dir: Path) -> dict[str, Any]:
    from bench import bench_import

    return bench_import.run(log_dir=log_dir)


def _slowloris(log_dir: Path) -> dict[str, Any]:
    from bench import bench_slowloris

    return bench_slowloris.run()


def _site(log_dir: Path) -> dict[str, Any]:
    from bench import bench_site

    return bench_site.run()


def _dispatch_1000(log_dir: Path) -> dict[str, Any]:
    from bench import bench_dispatch_1000

    return bench_dispatch_1000.run()


def _webhooks(log_dir: Path) -> dict[str, Any]:
    from bench import bench_webhooks

    return bench_webhooks.run()


def _webhook_crash(log_dir: Path) -> dict[str, Any]:
    from bench import bench_webhook_crash

    return bench_webhook_crash.run(log_dir=log_dir)


def _copies(log_dir: Path) -> dict[str, Any]:
    from bench import bench_copies

    return bench_copies.run()


def _backup(log_dir: Path) -> dict[str, Any]:
    from bench import bench_backup

    return bench_backup.run(100_000, log_dir=log_dir)


LATENCY_CHECKS: list[Check] = [
    ("row_to_first_message_seconds", "≤ poll + 1",
     lambda r: r["row_to_first_message_seconds"] <= r["poll_seconds"] + 1),
]
CRASH_CHECKS: list[Check] = [
    ("kills", "≥ 10", lambda r: r["kills"] >= 10),
    ("missed", "= 0", lambda r: r["missed"] == 0),
    ("duplicates", "≤ in_flight_at_kills",
     lambda r: r["duplicates"] <= r["in_flight_at_kills"]),
]
# Every request the Sheets emulator refused is one Google would refuse.
SHEETS_CHECKS: list[Check] = [("refused_requests", "= 0", lambda r: r["refused_requests"] == 0)]
def _diagnostic(log_dir: Path) -> dict[str, Any]:
    from bench import bench_diagnostic

    return bench_diagnostic.run()


def _rate(log_dir: Path) -> dict[str, Any]:
    from bench import bench_rate

    return bench_rate.run()


def _abuse(log_dir: Path) -> dict[str, Any]:
    from bench import bench_abuse

    return bench_abuse.run()


BENCHMARKS: dict[str, tuple[Callable[[Path], dict[str, Any]], list[Check]]] = {
    "dispatch": (_dispatch, [("ratio", "≤ 1.2", lambda r: r["ratio"] <= 1.2)]),
    "dispatch_1000": (_dispatch_1000, [
        ("duplicates", "= 0", lambda r: r["duplicates"] == 0),
        ("ratio", "≤ 1.1", lambda r: r["ratio"] <= 1.1),
    ]),
    "cleaning": (_cleaning, [("ratio", "≤ 1.3", lambda r: r["ratio"] <= 1.3)]),
    # Every write first looks where its rows are now (one request): rows are found by id; a
    # dispatch also reads the protection of `Alertes` (support/scenario.py says the sum).
    "sheets_requests": (_sheets, [
        ("idle_poll", f"≤ {SHEETS_IDLE_BUDGET}", lambda r: r["idle_poll"] <= SHEETS_IDLE_BUDGET),
        ("clean_10k", "≤ 3", lambda r: r["clean_10k"] <= 3),
        ("dispatch_1_alert", f"≤ {SHEETS_DISPATCH_BUDGET}",
         lambda r: r["dispatch_1_alert"] <= SHEETS_DISPATCH_BUDGET),
    ]),
    "latency": (_latency, LATENCY_CHECKS),
    "crash": (_crash, CRASH_CHECKS),
    # The same two on the Google register, through the Sheets emulator in its own process.
    "latency_sheets": (_latency_sheets, LATENCY_CHECKS + SHEETS_CHECKS),
    "crash_sheets": (_crash_sheets, CRASH_CHECKS + SHEETS_CHECKS),
    "faults": (_faults, [
        ("delivered", "= recipients", lambda r: r["delivered"] == r["recipients"]),
        ("duplicates", "= 0", lambda r: r["duplicates"] == 0),
    ]),
    "webhooks": (_webhooks, [("per_second", "≥ 240", lambda r: r["per_second"] >= 240)]),
    "duplicates_with_webhooks": (_webhook_crash, [
        ("kills", "≥ 10", lambda r: r["kills"] >= 10),
        ("missed", "= 0", lambda r: r["missed"] == 0),
        ("duplicates", "= 0", lambda r: r["duplicates"] == 0),
    ]),
    "max_copies_without_webhooks": (_copies, [
        ("max_copies", "≤ 2", lambda r: r["max_copies"] <= 2),
        ("missed", "= 0", lambda r: r["missed"] == 0),
    ]),
    "memory": (_memory, [("peak_rss_mb", "≤ 300", lambda r: r["peak_rss_mb"] <= 300)]),
    "import": (_import, [
        ("import_peak_rss_mb", "≤ 300", lambda r: r["import_peak_rss_mb"] <= 300),
        ("accepted_peak_rss_mb", "≤ 300", lambda r: r["accepted_peak_rss_mb"] <= 300),
    ]),
    "slowloris": (_slowloris, [
        ("site_under_slowloris_seconds", "≤ 1",
         lambda r: r["site_under_slowloris_seconds"] <= 1),
    ]),
    "site": (_site, [("largest_page_kb", "≤ 60", lambda r: r["largest_page_kb"] <= 60)]),
    "diagnostic": (_diagnostic, [
        ("diagnostic_seconds", "≤ 10", lambda r: r["diagnostic_seconds"] <= 10),
    ]),
    "rate": (_rate, [
        ("max_sends_in_any_second", "≤ rate", lambda r: r["max_sends_in_any_second"] <= r["rate"]),
        ("accepted", "= recipients", lambda r: r["accepted"] == r["recipients"]),
    ]),
    "backup_seconds_100k": (_backup, [
        ("backup_seconds", "≤ 30", lambda r: r["backup_seconds"] <= 30),
        ("missed", "= 0", lambda r: r["missed"] == 0),
        ("duplicates", "= 0", lambda r: r["duplicates"] == 0),
    ]),
    # An attacker's day against the form (bench_abuse.py): the budget caps what he spends.
    "abuse": (_abuse, [
        ("outbound_confirmations", "≤ budget",
         lambda r: r["outbound_confirmations"] <= r["budget"]),
        ("sms_parts", "≤ 2 × budget", lambda r: r["sms_parts"] <= 2 * r["budget"]),
        ("foreign_messages", "= 0", lambda r: r["foreign_messages"] == 0),
        ("legit_whatsapp_confirmed", "= 10", lambda r: r["legit_whatsapp_confirmed"] == 10),
    ]),
}


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON file to write")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")

    console = Console(width=max(Console().width, 100))
    log_dir = Path(tempfile.mkdtemp(prefix="alerte-bench-logs-"))
    # The sender logs its retries (masked numbers); keep them out of the table, in a file.
    logging.basicConfig(filename=log_dir / "bench.log", level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s : %(message)s")

    results: dict[str, Any] = {}
    if args.only and args.output.exists():
        results = json.loads(args.output.read_text(encoding="utf-8"))
    durations: dict[str, float] = {}
    failures: dict[str, str] = {}
    started = time.monotonic()
    for name in names:
        runner, _ = BENCHMARKS[name]
        console.print(f"[bold]→ {name}[/bold]…", highlight=False)
        t0 = time.monotonic()
        try:
            results[name] = runner(log_dir)
        except Exception as exc:  # report and carry on with the other benchmarks
            failures[name] = f"{type(exc).__name__}: {exc}"
            (log_dir / f"{name}.error.txt").write_text(traceback.format_exc(), encoding="utf-8")
            results.pop(name, None)
        durations[name] = time.monotonic() - t0
    total = time.monotonic() - started

    table = Table(title="Alerte Message — benchmarks (emulators on 127.0.0.1)")
    for column in ("benchmark", "figure", "value", "target", "", "time"):
        table.add_column(column, justify="right" if column in ("value", "time") else "left")
    missed = 0
    for name in names:
        _, checks = BENCHMARKS[name]
        spent = f"{durations[name]:.1f} s"
        if name in failures:
            table.add_row(name, "[red]FAILED[/red]", failures[name][:60], "", "✗", spent)
            missed += 1
            continue
        result = results[name]
        targets = {figure: (text, test) for figure, text, test in checks}
        for index, (figure, value) in enumerate(result.items()):
            target, mark = "", ""
            if figure in targets:
                text, test = targets[figure]
                ok = bool(test(result))
                missed += not ok
                target, mark = text, "[green]✓[/green]" if ok else "[red]✗[/red]"
            table.add_row(name if index == 0 else "", figure, _format(value), target, mark,
                          spent if index == 0 else "")
        table.add_section()
    console.print(table)

    complete = all(name in results for name in BENCHMARKS)
    if complete or args.only:
        args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n",
                               encoding="utf-8")
        console.print(f"Results written to {args.output}", highlight=False)
    console.print(f"Total: {total:.0f} s — logs in {log_dir}", highlight=False)
    if missed:
        console.print(f"[red]{missed} target(s) missed or benchmark(s) failed.[/red]")
        return 1
    console.print("[green]Every target met.[/green]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
