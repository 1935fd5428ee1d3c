#!/usr/bin/env bash
# Audit the locked dependencies with pip-audit. Without access to a vulnerability database
# (PyPI JSON API / OSV) the audit cannot run: say so plainly and fail, never pass silently.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
.venv/bin/pip-audit --strict --disable-pip --require-hashes -r requirements.lock \
    -r requirements-dev.lock >"$log" 2>&1
status=$?
cat "$log"
if [ $status -eq 0 ]; then
    echo "Audit terminé : aucune faille connue dans requirements.lock ni requirements-dev.lock."
elif grep -qiE "could not be audited|connection|timed out|resolve|HTTPError" "$log"; then
    echo
    echo "AUDIT IMPOSSIBLE : la base de vulnérabilités (PyPI/OSV) n'est pas joignable depuis cette"
    echo "machine, aucune dépendance n'a été vérifiée. Relancez « make audit » sur un poste relié"
    echo "à Internet avant chaque mise en production (voir README, « Publier une version »)."
    status=2
else
    echo
    echo "Des failles connues ont été trouvées : mettez à jour les paquets indiqués, puis"
    echo "régénérez le verrou (make lock)."
fi
rm -f "$log"
exit $status
