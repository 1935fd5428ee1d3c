"""The broken and hostile files of `tests/data/`, as people and other programs produce them.

    python -m support.hostile_files      # rewrites tests/data/ (the files are committed)

Each function writes one file; `tests/data/README.md` says what each one is for.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from pathlib import Path

from openpyxl import Workbook

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
HEADER = ["nom", "entreprise", "activite", "commune", "telephone"]
COMMUNES = ("Mende", "Marvejols", "Florac", "Langogne", "Saint-Chély-d'Apcher")


def members(count: int, *, start: int = 0) -> list[list[str]]:
    """`count` sign-ups with accents and distinct mobiles, as a CMA list holds them."""
    return [
        [f"Adhérente {i} Hélène", f"Boulangerie n° {i}", "Alimentation", COMMUNES[i % 5],
         f"06 {i // 10000 % 100:02d} {i // 100 % 100:02d} {i % 100:02d} 1{i % 10}"]
        for i in range(start, start + count)
    ]


def _csv(rows: list[list[str]], delimiter: str = ";") -> str:
    return "\r\n".join(delimiter.join(r) for r in rows) + "\r\n"


def write_encodings(folder: Path) -> list[Path]:
    """The same five sign-ups saved by a spreadsheet in each encoding it offers."""
    rows = [HEADER, *members(5)]
    files = {
        "inscriptions-utf8.csv": _csv(rows).encode("utf-8"),
        "inscriptions-utf8-bom.csv": codecs.BOM_UTF8 + _csv(rows).encode("utf-8"),
        "inscriptions-cp1252.csv": _csv(rows).encode("cp1252"),
        # Excel's « Texte Unicode (*.txt) »: UTF-16 little-endian with BOM, tab-separated.
        "inscriptions-texte-unicode.txt": codecs.BOM_UTF16_LE + _csv(rows, "\t").encode(
            "utf-16-le"),
    }
    written = []
    for name, data in files.items():
        (folder / name).write_bytes(data)
        written.append(folder / name)
    return written


def write_stray_quote(folder: Path) -> Path:
    """50 members; line 3 opens a quote that is only closed on line 50: the 47 members in
    between would be read as one `nom` cell."""
    rows = members(50)
    lines = [";".join(HEADER)] + [";".join(r) for r in rows]
    lines[2] = '"' + lines[2]  # line 3 of the file
    lines[49] = lines[49].replace("Boulangerie", 'Boulangerie"', 1)  # line 50
    path = folder / "inscriptions-guillemet-ouvert.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def write_huge_field(folder: Path) -> Path:
    """A note pasted in a name cell: 200,000 characters, over the csv module's limit."""
    rows = [HEADER, *members(3)]
    rows[2][0] = "Texte collé par erreur " * 8700
    path = folder / "inscriptions-champ-enorme.csv"
    path.write_text(_csv(rows), encoding="utf-8")
    return path


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_dimension(data: bytes, ref: str) -> bytes:
    """The workbook with its first sheet's `<dimension>` replaced by `ref` (as a program that
    rewrites rows without updating it leaves it)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb'<dimension ref="[^"]*"/>',
                                 f'<dimension ref="{ref}"/>'.encode(), content)
            target.writestr(item, content)
    return out.getvalue()


def write_stale_dimensions(folder: Path) -> list[Path]:
    """10 members behind `<dimension ref="A1"/>`, 1,000 behind `A1:E3`."""
    small = folder / "inscriptions-dimension-perimee-10.xlsx"
    small.write_bytes(_with_dimension(_xlsx([HEADER, *members(10)]), "A1"))
    large = folder / "inscriptions-dimension-perimee-1000.xlsx"
    large.write_bytes(_with_dimension(_xlsx([HEADER, *members(1000)]), "A1:E3"))
    return [small, large]


def write_whitespace_bomb(folder: Path, gigabytes: float = 1.5) -> Path:
    """A valid-looking workbook of about 1.5 MB whose sheet decompresses to 1.5 GB: the header
    row, then gigabytes of spaces between two tags, then one member."""
    base = zipfile.ZipFile(io.BytesIO(_xlsx([HEADER])))
    path = folder / "inscriptions-bombe.xlsx"
    spaces = b" " * (8 * 1024 * 1024)
    total = int(gigabytes * 1024**3)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in base.infolist():
            content = base.read(item.filename)
            if item.filename != "xl/worksheets/sheet1.xml":
                target.writestr(item.filename, content)
                continue
            head, _, tail = content.partition(b"</row>")
            with target.open(item.filename, "w", force_zip64=True) as stream:
                stream.write(head + b"</row>")
                for _ in range(total // len(spaces)):
                    stream.write(spaces)
                stream.write(tail)
    return path


def main() -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    written = [*write_encodings(DATA), write_stray_quote(DATA), write_huge_field(DATA),
               *write_stale_dimensions(DATA), write_whitespace_bomb(DATA)]
    for path in written:
        print(f"{path.relative_to(DATA.parent.parent)}  {path.stat().st_size:,} octets")


if __name__ == "__main__":
    main()
