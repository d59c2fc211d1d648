# The two commands of the README: `make demo` (the main job) and `make test` (lint + tests).
# Both set up .venv on first use: torch pinned first (a CPU wheel), then requirements-test.txt.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN := HF_HUB_OFFLINE=1 $(BIN)/python
EXAMPLE ?= examples/orbit-3d.json
OUT ?= outputs/demo

.PHONY: setup demo test lint format clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-test.txt constraints-test.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -r requirements-test.txt -c constraints-test.txt
	touch $@

demo: setup
	@mkdir -p $(OUT)
	$(RUN) -m wan plan $(EXAMPLE) --model tiny-t2v --plot $(OUT)/motion.png
	$(RUN) -m wan render $(EXAMPLE) --model tiny-t2v --size 256x144 --steps 8 --out $(OUT)/run
	@echo "video: $(OUT)/run/video.mp4 (a tiny random smoke model: its frames are noise)"

test: setup lint
	$(RUN) -m pytest -q

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) outputs .pytest_cache .ruff_cache
