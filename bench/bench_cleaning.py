"""Cleaning throughput on 100,000 rows versus a bare phonenumbers loop over the same strings."""

from __future__ import annotations

import gc
import time

import phonenumbers

from sender.cleaning.inscriptions import clean_inscriptions
from sender.domain.phones import clear_caches
from sender.schema import COLUMNS, INSCRIPTIONS
from sender.tables import Row, Table
from support.datasets import signups


def baseline(strings: list[str]) -> float:
    start = time.perf_counter()
    for text in strings:
        try:
            number = phonenumbers.parse(text, "FR")
        except phonenumbers.NumberParseException:
            continue
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return time.perf_counter() - start


def run(rows: int = 100_000) -> dict[str, float]:
    data = signups(rows)
    table = Table(INSCRIPTIONS, list(COLUMNS[INSCRIPTIONS]),
                  [Row(i + 2, r) for i, r in enumerate(data)])
    strings = [r["telephone"] for r in data]
    gc.collect()
    base = baseline(strings)
    clear_caches()
    gc.collect()
    start = time.perf_counter()
    report = clean_inscriptions(table)
    seconds = time.perf_counter() - start
    assert report.rows == rows
    return {"rows": rows, "seconds": round(seconds, 3), "baseline_seconds": round(base, 3),
            "ratio": round(seconds / base, 3)}


if __name__ == "__main__":
    print(run())
