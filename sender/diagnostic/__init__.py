"""`alerte-message diagnostic`: is this installation ready to send? One French checklist.

Each check asks the real service with its real endpoint (docs/architecture.md, « Diagnostic »)
and answers one `Line`: ✓, ! (a warning) or ✗ (sending is blocked) and what to do. `run`
makes the independent checks in parallel threads, each with a bounded timeout.
"""

from sender.diagnostic.report import Line, Status, blocking
from sender.diagnostic.run import Services, run

__all__ = ["Line", "Services", "Status", "blocking", "run"]
