"""Reading and writing tabular files (CSV, XLSX) with lenient French headers.

Files come from people and from other programs, sometimes broken, sometimes hostile. Every
problem is a French `InputError` raised before anything is written, so an import adds all of a
file's rows or none:

- CSV: UTF-8 with or without BOM, UTF-16 with BOM (Excel's « Texte Unicode »), Windows-1252;
  separator taken from the header line; a quote opened and never closed, which would swallow
  the following lines into one cell, is reported with its line numbers; over-long fields are
  refused.
- XLSX: the archive is checked before it is opened (sizes, compression ratio, longest text run
  of its XML parts: a 1.5 MB file may hold gigabytes of spaces); the stored `<dimension>` is
  ignored (stale ones hide rows); rows are streamed, so memory stays small.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO

from sender.errors import InputError
from sender.text import MAX_CELL, fold, thousands

MAX_ROWS = 200_000
MAX_FIELD = MAX_CELL  # characters in one cell, as the register stores at most
MAX_FILE_BYTES = 64 * 1024 * 1024  # CSV or XLSX on disk
MAX_XLSX_PART = 128 * 1024 * 1024  # uncompressed bytes of one part of the archive
MAX_XLSX_TOTAL = 256 * 1024 * 1024  # uncompressed bytes of the whole archive
MAX_XLSX_RATIO = 100  # uncompressed / compressed, for parts above MAX_RATIO_FROM bytes
MAX_RATIO_FROM = 1024 * 1024
MAX_XML_RUN = 128 * 1024  # bytes between two tag signs: a cell text or spaces between tags
_CHUNK = 1024 * 1024
_LONG_RUN = re.compile(rb"[^<>]{%d,}" % (MAX_XML_RUN + 1))

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


def _too_long(name: str, line: int, length: int) -> InputError:
    return InputError(
        f"{name}, ligne {line} : une cellule compte {thousands(length)} caractères, au plus "
        f"{thousands(MAX_FIELD)} sont acceptés. Rien n'a été importé : raccourcissez-la ou "
        "vérifiez que le fichier est bien une liste (séparateurs, guillemets)."
    )


# -- CSV ----------------------------------------------------------------------------------------


def csv_encoding(path: Path) -> str:
    """The text encoding of a CSV file: its BOM, else UTF-8 if the whole file decodes as such,
    else Windows-1252 (what Excel writes on a French Windows)."""
    with path.open("rb") as handle:
        head = handle.read(4)
        if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
            return "utf-32"
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16"
        if head.startswith(codecs.BOM_UTF8):
            return "utf-8-sig"
        handle.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8"


def _open_text(path: Path, encoding: str) -> IO[str]:
    # cp1252 leaves five bytes undefined: show them as « � » rather than refuse the file.
    errors = "replace" if encoding == "cp1252" else "strict"
    return path.open(encoding=encoding, errors=errors, newline="")


def _read_csv(path: Path) -> list[list[str]]:
    encoding = csv_encoding(path)
    try:
        with _open_text(path, encoding) as handle:
            # The header line decides the separator: csv.Sniffer guesses wrong on cells full
            # of quotes and semicolons (formulas, addresses), which would lose every column.
            header = handle.readline()
            delimiter = max(";,\t", key=header.count)
            width = header.count(delimiter) + 1
            handle.seek(0)
            reader = csv.reader(handle, delimiter=delimiter)
            return list(_csv_rows(path.name, reader, delimiter, width))
    except UnicodeDecodeError as exc:
        raise InputError(
            f"Le fichier {path.name} n'est pas un texte lisible ({encoding} invalide) : "
            "enregistrez-le en « CSV UTF-8 » depuis le tableur."
        ) from exc


def _csv_rows(
    name: str, reader: Iterator[list[str]], delimiter: str, width: int
) -> Iterator[list[str]]:
    first_line = 1
    count = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a field over the csv module's limit (131,072 characters)
            line = getattr(reader, "line_num", first_line)
            if "field larger" in str(exc):
                raise InputError(
                    f"{name}, ligne {first_line} : une cellule dépasse 131 072 caractères. Rien "
                    "n'a été importé : vérifiez les guillemets du fichier autour de cette ligne "
                    f"(jusqu'à la ligne {line})."
                ) from exc
            raise InputError(
                f"{name}, ligne {line} : le fichier CSV est mal formé ({_csv_reason(exc)}). "
                "Rien n'a été importé."
            ) from exc
        last_line = reader.line_num  # type: ignore[attr-defined]
        if last_line > first_line:
            _check_spanning(name, row, delimiter, width, first_line, last_line)
        for cell in row:
            if len(cell) > MAX_FIELD:
                raise _too_long(name, first_line, len(cell))
        first_line = last_line + 1
        if any(c.strip() for c in row):
            count += 1
            if count > MAX_ROWS + 1:
                raise InputError(
                    f"Le fichier {name} dépasse {thousands(MAX_ROWS)} lignes : découpez-le."
                )
            yield row


def _csv_reason(exc: csv.Error) -> str:
    text = str(exc)
    if "NUL" in text or "NULL" in text:
        return "caractère nul"
    if "new-line" in text or "newline" in text:
        return "retour à la ligne inattendu"
    return "guillemets ou séparateurs incohérents"


def _check_spanning(
    name: str, row: list[str], delimiter: str, width: int, first: int, last: int
) -> None:
    """A quoted cell may hold line breaks (an address, a note). One that holds whole lines of
    the file — as many separators as the header has — is a quote opened by mistake: the lines
    it swallowed would be lost."""
    if width < 2:
        return
    for cell in row:
        if "\n" not in cell and "\r" not in cell:
            continue
        inner = cell.splitlines()[1:]
        if any(line.count(delimiter) >= width - 1 for line in inner):
            raise InputError(
                f"{name}, ligne {first} : un guillemet (\") ouvert en début de cellule n'est "
                f"refermé qu'à la ligne {last} : les lignes {first + 1} à {last} seraient "
                "lues comme une seule cellule et perdues. Rien n'a été importé : retirez ce "
                "guillemet ou refermez-le sur la même ligne."
            )


# -- XLSX ---------------------------------------------------------------------------------------


def check_xlsx_archive(path: Path) -> None:
    """Refuse, before any XML is parsed, an archive whose parts are too large, too compressed
    (a « zip bomb ») or hold a text run longer than any real cell."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(
            f"Le fichier {path.name} n'est pas un classeur Excel lisible (archive XLSX abîmée)."
        ) from exc
    refused = InputError(
        f"Le fichier {path.name} est refusé : une fois décompressé, il serait bien plus gros "
        "qu'une liste d'adhérents (fichier piégé ou abîmé). Rien n'a été importé : "
        "enregistrez la liste en CSV ou dans un nouveau classeur."
    )
    with archive:
        entries = archive.infolist()
        if sum(e.file_size for e in entries) > MAX_XLSX_TOTAL:
            raise refused
        for entry in entries:
            if entry.file_size > MAX_XLSX_PART or (
                entry.file_size > MAX_RATIO_FROM
                and entry.file_size > MAX_XLSX_RATIO * max(entry.compress_size, 1)
            ):
                raise refused
        for entry in entries:
            if entry.filename.endswith((".xml", ".rels")):
                try:
                    longest = _longest_run(archive, entry)
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    raise InputError(
                        f"Le fichier {path.name} n'est pas un classeur Excel lisible (archive "
                        "XLSX abîmée)."
                    ) from exc
                if longest > MAX_XML_RUN:
                    raise InputError(
                        f"Le fichier {path.name} est refusé : il contient un texte de plus de "
                        f"{thousands(MAX_XML_RUN)} caractères d'un seul tenant (une cellule "
                        "Excel en compte au plus 32 767). Rien n'a été importé."
                    )


def _longest_run(archive: zipfile.ZipFile, entry: zipfile.ZipInfo) -> int:
    """Longest run of bytes without `<` or `>` in one part, read in chunks (never whole)."""
    longest = carry = 0
    with archive.open(entry) as stream:
        while chunk := stream.read(_CHUNK):
            lt, gt = chunk.find(b"<"), chunk.find(b">")
            first = min(i for i in (lt, gt, len(chunk)) if i >= 0)
            if first == len(chunk):
                carry += len(chunk)
                longest = max(longest, carry)
                if longest > MAX_XML_RUN:
                    return longest
                continue
            longest = max(longest, carry + first)
            if _LONG_RUN.search(chunk):
                return MAX_XML_RUN + 1
            last = max(chunk.rfind(b"<"), chunk.rfind(b">"))
            carry = len(chunk) - 1 - last
            if longest > MAX_XML_RUN:
                return longest
    return max(longest, carry)


def _read_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    check_xlsx_archive(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for broken files
        kind = exc.__class__.__name__
        raise InputError(
            f"Le fichier {path.name} n'est pas un classeur Excel lisible ({kind})."
        ) from exc
    try:
        sheet = book.worksheets[0]
        sheet.reset_dimensions()  # the stored <dimension> may be stale: read every row there is
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            for cell in cells:
                if len(cell) > MAX_FIELD:
                    raise _too_long(path.name, number, len(cell))
            if any(cells):
                rows.append(cells)
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    except InputError:
        raise
    except Exception as exc:  # a part that is not the XML it claims to be
        raise InputError(
            f"Le fichier {path.name} n'est pas un classeur Excel lisible "
            f"({exc.__class__.__name__})."
        ) from exc
    finally:
        book.close()


def read_table(path: Path, columns: Sequence[str], required: Sequence[str] = ()
               ) -> list[dict[str, str]]:
    """Rows of a CSV or XLSX file as dicts keyed by register column, in file order. A file
    without one of the `required` columns is refused (nothing read), naming them."""
    if not path.exists():
        raise InputError(f"Fichier introuvable : {path}")
    if path.is_dir():
        raise InputError(f"{path} est un dossier : indiquez un fichier CSV ou XLSX.")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(
            f"Le fichier {path.name} dépasse {MAX_FILE_BYTES // (1024 * 1024)} Mo : découpez-le."
        )
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
        raise InputError(
            f"Le fichier {path.name} dépasse {thousands(MAX_ROWS)} lignes : découpez-le."
        )
    mapping = map_headers(grid[0], columns)
    if not mapping:
        raise InputError(
            f"Aucune colonne reconnue dans {path.name}. La première ligne doit porter les "
            f"en-têtes, par exemple : {', '.join(columns)}."
        )
    missing = [c for c in required if c not in mapping.values()]
    if missing:
        raise InputError(
            f"Colonne(s) obligatoire(s) absente(s) de {path.name} : {', '.join(missing)}. "
            f"Rien n'a été importé. En-têtes attendus sur la première ligne : "
            f"{', '.join(columns)} (« tel », « mobile », « portable », « téléphone » sont "
            "aussi reconnus pour telephone)."
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
