"""`python -m sender`: the `alerte-message` command; a French hint when the dependencies are
missing (run outside the project's environment)."""

import sys

try:
    from sender.cli import main
except ModuleNotFoundError as exc:  # pragma: no cover - exercised by a subprocess test
    if (exc.name or "").split(".")[0] == "sender":
        raise
    sys.stderr.write(
        f"Erreur : le module « {exc.name} » manque : Alerte Message n'est pas installé dans ce "
        "Python. Lancez « make install » puis « .venv/bin/alerte-message … » (ou "
        "« .venv/bin/python -m sender … »).\n"
    )
    raise SystemExit(1) from None

raise SystemExit(main())
