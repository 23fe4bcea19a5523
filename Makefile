# PresGen. `make demo` and `make test` do all set-up on a fresh machine (PyPI only, no model hubs).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PRESGEN := $(VENV)/bin/presgen
MUSETALK_COMMIT ?= 0a89dec

.PHONY: help venv envs env-puppet env-musetalk demo demo-deck deck-tools course test test-engines test-fast lint faults bench bench-deck bench-musetalk bench-course vendor doctor clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,ray]'
	touch $@

venv: $(VENV)/.installed ## the orchestrator's venv (.venv)

env-puppet: venv ## the puppet engine's venv (mediapipe 0.10.21, numpy<2)
	$(PRESGEN) env create puppet --if-needed

env-musetalk: venv ## the native MuseTalk engine's venv (CPU torch 2.13.0)
	$(PRESGEN) env create musetalk --if-needed

envs: venv ## every engine venv that can be built on this machine
	$(PRESGEN) env create --all --if-needed

demo: env-puppet ## render examples/ to out/demo.mp4
	$(PY) examples/presenter_photo.py out/presenter.png
	$(PRESGEN) render --script examples/demo_script.yaml --source-image out/presenter.png --out out/demo.mp4

# Debian tools for slide decks (PPTX/ODP -> PDF -> PNG) and the fonts decks usually name; needs root.
DECK_PACKAGES := libreoffice-impress poppler-utils fonts-dejavu-core fonts-liberation2 fonts-crosextra-carlito \
	fonts-crosextra-caladea

deck-tools: ## LibreOffice, poppler and fonts for `presgen render --deck` (apt-get, as root)
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DECK_PACKAGES)

demo-deck: env-puppet ## build a small deck with python-pptx and render it to out/demo-deck.mp4 (needs make deck-tools)
	$(PY) examples/demo_deck.py out/demo-deck.pptx
	$(PY) examples/presenter_photo.py out/presenter.png
	$(PRESGEN) render --deck out/demo-deck.pptx --source-image out/presenter.png --layout slides \
		--intro after --end-card --out out/demo-deck.mp4

course: env-puppet ## render examples/course.yaml (three short modules) to out/course/index.html
	$(PY) examples/presenter_photo.py out/presenter.png
	$(PRESGEN) course examples/course.yaml

test: env-puppet env-musetalk lint ## the whole test suite (uses ../shared/media when PRESGEN_TEST_MEDIA is set)
	$(PY) -m pytest -q -n 2 --dist loadfile  # two workers; a file's tests stay together (they share fixtures)
	$(PY) tests/run_engine_tests.py

test-engines: env-puppet env-musetalk ## only the engine-internals tests, each inside its engine venv
	$(PY) tests/run_engine_tests.py

test-fast: venv ## offline tests that need no engine venv and install nothing (plus the import contracts)
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -q -m "not puppet_env and not musetalk_env and not env_build"

lint: venv ## ruff (lint + format), mypy and the import contracts
	$(VENV)/bin/ruff check presgen_training musetalk_wrapper tests bench examples
	$(VENV)/bin/ruff format --check presgen_training musetalk_wrapper tests bench examples
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

faults: env-puppet ## the fault suite: hostile inputs and misbehaving engines against the real CLI (a table)
	$(PY) bench/faults.py

bench: env-puppet ## whole-pipeline speed (static, puppet) and the moviepy overlay comparison
	$(PY) bench/pipeline.py --engine static --engine puppet

bench-deck: venv ## deck conversion (first and cached) and render time, layout slides vs side (needs make deck-tools)
	$(PY) bench/deck.py

bench-musetalk: env-musetalk ## MuseTalk per-stage speed with full-size random weights (writes ~3.8 GB to a temp dir)
	PYTHONPATH=. .envs/musetalk/bin/python bench/musetalk.py

bench-course: env-puppet ## incremental re-render share, and 12 modules serial vs --jobs 2 vs Ray local
	$(PY) bench/incremental.py
	$(PY) bench/course.py

vendor: ## clone upstream MuseTalk at a pinned commit into vendor/MuseTalk (needs network)
	$(PRESGEN) env vendor --commit $(MUSETALK_COMMIT)

doctor: venv ## what works on this machine, and the command that fixes what does not
	$(PRESGEN) doctor

clean: ## remove renders and test artefacts (keeps venvs)
	rm -rf out test-artifacts .pytest_cache
