"""Terminal display of a dispatch: a rich progress bar and a final table on a TTY, one line else."""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from sender.dispatch.report import DispatchReport
from sender.text import seconds


class ProgressView:
    """Shows progress when `fancy` (a terminal); otherwise only the final summary line."""

    def __init__(
        self, console: Console, *, fancy: bool, on_advance: Callable[[], None] | None = None
    ) -> None:
        """`on_advance` is told each time the dispatch advances (the watchdog's sign of life)."""
        self.console = console
        self.fancy = fancy
        self.on_advance = on_advance
        self._progress: Progress | None = None
        self._task = None

    def start(self, alert_id: str, total: int) -> None:
        if not self.fancy:
            return
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
        )
        self._task = self._progress.add_task(f"Alerte {escape(alert_id)}", total=total or None)
        self._progress.start()

    def advance(self, count: int = 1) -> None:
        if self.on_advance is not None:
            self.on_advance()
        if self._progress is not None and count:
            self._progress.advance(self._task, count)

    def stop(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def finish(self, report: DispatchReport) -> None:
        self.stop()
        if not self.fancy:
            self.console.print(report.summary_line(), markup=False, highlight=False)
            return
        table = Table(title=f"Alerte {escape(report.alert_id)}", show_header=True)
        table.add_column("Résultat")
        table.add_column("Nombre", justify="right")
        table.add_row("Destinataires", str(report.recipients))
        sent = str(report.sent)
        if report.sent_by_fallback:
            sent += f" (dont {report.sent_by_fallback} par SMS)"
        table.add_row("Envoyés", sent)
        table.add_row("Échecs", str(report.failed))
        table.add_row("Reportés", str(report.deferred))
        table.add_row("Non envoyés", str(report.not_sent))
        table.add_row("Durée", seconds(report.elapsed))
        self.console.print(table)
        if report.busy or report.stopped_motif:
            reason = report.stopped_motif or ""
            self.console.print(f"[bold red]Envoi arrêté :[/] {escape(reason)}", highlight=False)
        for note in report.notes:
            self.console.print(note, markup=False, highlight=False)
        for line in report.failure_lines():
            self.console.print(f"  • {line}", markup=False, highlight=False)
