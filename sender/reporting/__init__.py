"""The network in figures: privacy-safe aggregates, accessible SVG charts, the report to the
préfecture.

- `aggregate`: pure counts from the register (members by zone and trade, alerts by type and
  month), no group under 5 people shown;
- `store`: the figures file the site build publishes (`data/statistiques.json`);
- `charts`: inline SVG bar charts, each with its data table;
- `report` and `document`: the per-alert report for a period and its self-contained HTML file.
"""
