"""Reading and writing tabular files (CSV, XLSX) with lenient French headers."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from sender.errors import InputError
from sender.text import fold

MAX_ROWS = 200_000

# Header spellings people use, mapped to register columns.
_ALIASES = {
    "telephone": "telephone", "tel": "telephone", "portable": "telephone", "mobile": "telephone",
    "numero de telephone": "telephone", "numero": "telephone", "telephone mobile": "telephone",
    "activite": "activite", "metier": "activite", "corporation": "activite",
    "nom et prenom": "nom", "nom prenom": "nom",
    "raison sociale": "entreprise", "societe": "entreprise",
    "date": "horodatage", "date d inscription": "horodatage",
}


def map_headers(headers: Sequence[str], columns: Sequence[str]) -> dict[int, str]:
    """Index of each file column → register column; unknown file columns are ignored."""
    wanted = {fold(c): c for c in columns}
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        key = fold(header)
        column = wanted.get(key) or wanted.get(fold(_ALIASES.get(key, "")))
        if column and column not in mapping.values():
            mapping[index] = column
    return mapping


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value).strip()


def _read_csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes nearly anything
        raise InputError(f"Le fichier {path.name} n'est pas un texte lisible (encodage inconnu).")
    # The header line decides the separator: csv.Sniffer guesses wrong on cells full of
    # quotes and semicolons (formulas, addresses), which would lose every column.
    header = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=header.count)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    return [row for row in reader if any(c.strip() for c in row)]


def _read_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        kind = exc.__class__.__name__
        raise InputError(
            f"Le fichier {path.name} n'est pas un classeur Excel lisible ({kind})."
        ) from exc
    try:
        sheet = book.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            cells = [_cell_text(v) for v in values]
            if any(cells):
                rows.append(cells)
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        book.close()


def read_table(path: Path, columns: Sequence[str]) -> list[dict[str, str]]:
    """Rows of a CSV or XLSX file as dicts keyed by register column, in file order."""
    if not path.exists():
        raise InputError(f"Fichier introuvable : {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        grid = _read_xlsx(path)
    elif suffix in (".csv", ".txt", ""):
        grid = _read_csv(path)
    else:
        raise InputError(
            f"Format non pris en charge : « {path.suffix} ». Utilisez un fichier CSV ou XLSX."
        )
    if not grid:
        raise InputError(f"Le fichier {path.name} est vide.")
    if len(grid) > MAX_ROWS + 1:
        raise InputError(f"Le fichier {path.name} dépasse {MAX_ROWS} lignes : découpez-le.")
    mapping = map_headers(grid[0], columns)
    if not mapping:
        raise InputError(
            f"Aucune colonne reconnue dans {path.name}. La première ligne doit porter les "
            f"en-têtes, par exemple : {', '.join(columns)}."
        )
    return [
        {column: (cells[i].strip() if i < len(cells) else "") for i, column in mapping.items()}
        for cells in grid[1:]
    ]


def to_csv(headers: Sequence[str], rows: Sequence[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(headers), delimiter=";", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
