"""The network in figures: privacy-safe aggregates, accessible SVG charts, the report to the
préfecture.

- `aggregate`: pure counts from the register (members by zone and trade, alerts by type and
  month), no group under 5 people shown;
- `store`: the figures file the site build publishes (`data/statistiques.json`);
- `charts`: inline SVG bar charts, each with its data table;
- `report` and `document`: the per-alert report for a period and its self-contained HTML file.
"""

from sender.reporting.aggregate import THRESHOLD, statistics
from sender.reporting.charts import statistics_sections
from sender.reporting.document import render_report
from sender.reporting.report import build_report
from sender.reporting.store import DEFAULT_PATH, read_statistics, write_statistics

__all__ = [
    "DEFAULT_PATH",
    "THRESHOLD",
    "build_report",
    "read_statistics",
    "render_report",
    "statistics",
    "statistics_sections",
    "write_statistics",
]
