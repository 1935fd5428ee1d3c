# Alerte Message — every command a person needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install installer-production site run test test-rapide lint bench audit lock clean

help: ## Affiche cette aide
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-22s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@echo "→ Création de l'environnement Python dans $(VENV)…"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed ## Installe l'environnement (.venv) et les dépendances

# Production: runtime dependencies only, exactly the locked versions, each checked against its
# hash (requirements.lock), then the project itself without resolving anything else.
installer-production: ## Production : dépendances d'exécution seules, vérifiées par empreinte
	@echo "→ Installation de production dans $(VENV) (requirements.lock, empreintes vérifiées)…"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation .
	$(PY) -m pip check
	@echo "→ Installé : $(BIN)/alerte-message (voir docs/production.md)."

site: install ## Construit le site statique dans output/
	$(BIN)/pelican content -s pelicanconf.py -o output

run: site ## Démarre tout en local : registre SQLite, canal outbox, site et formulaire sur 127.0.0.1
	$(BIN)/alerte-message demarrer --hote $(HOST) --port $(PORT)

test: install ## Lance la vérification du code et tous les tests
	$(BIN)/ruff check .
	$(PY) -m pytest

test-rapide: install ## Tests rapides seulement (sans navigateur ni tests lents), pour travailler
	$(PY) -m pytest -q -m "not slow"

lint: install ## Vérifie le style et la sécurité du code (ruff, bandit)
	$(BIN)/ruff check .
	$(BIN)/bandit -q -ll -c pyproject.toml -r sender

bench: install ## Mesure vitesse, mémoire et résistance contre les émulateurs locaux
	$(PY) -m bench.run

audit: install ## Cherche des failles connues dans les dépendances verrouillées (pip-audit)
	@bash scripts/audit.sh

LOCK_OPTIONS := --quiet --allow-unsafe --generate-hashes --strip-extras --no-emit-index-url \
	--no-emit-find-links

lock: install ## Régénère les verrous (production : requirements.lock ; développement : requirements-dev.lock)
	$(BIN)/pip-compile $(LOCK_OPTIONS) --build-deps-for wheel -o requirements.lock pyproject.toml
	$(BIN)/pip-compile $(LOCK_OPTIONS) --extra dev -o requirements-dev.lock pyproject.toml

clean: ## Supprime l'environnement, le site construit et les fichiers de test
	rm -rf $(VENV) output test-artifacts .pytest_cache .ruff_cache
