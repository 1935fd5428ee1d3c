"""The Sheets emulator in a process of its own, for real `alerte-message` processes:

    python -m support.emulators.sheets --port 0 --spreadsheet 1AbC…

creates the spreadsheet (one empty « Feuille 1 », as Google creates it), prints one JSON line
with its base URL (the value of GOOGLE_SHEETS_API_URL) and serves until its standard input
closes. Tests drive it through its control endpoints (`control`); `SheetsProcess` starts it.
"""

from __future__ import annotations

import argparse
import json
import sys

from support.emulators.sheets.emulator import SheetsEmulator


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m support.emulators.sheets",
                                     description="Google Sheets API emulator, on 127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="port (0: one the system picks)")
    parser.add_argument("--spreadsheet", action="append", default=[], metavar="ID",
                        help="spreadsheet to create empty (repeatable)")
    parser.add_argument("--title", default="", help="title of the spreadsheets created")
    args = parser.parse_args(argv)
    emulator = SheetsEmulator()
    for key in args.spreadsheet:
        emulator.create_spreadsheet(key, title=args.title)
    emulator.start(args.port)
    print(json.dumps({"base_url": emulator.base_url}), flush=True)
    sys.stdin.read()  # until the parent closes our standard input
    emulator.stop()


if __name__ == "__main__":
    main()
