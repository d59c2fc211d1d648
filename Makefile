# The two commands of the README: `make demo` (the main job) and `make test` (everything CI runs);
# `make ui` opens the WAN tab without a WebUI.
# Each environment is set up on first use: torch pinned first (a CPU wheel), then its requirements.
#   .venv        the main test environment, shaped like Forge (gradio 4.40, pydantic 2)
#   .venv-a1111  the second one, pinned like AUTOMATIC1111 1.10 (gradio 3.41.2, fastapi 0.94,
#                pydantic 1), for the host-facing tests
# `make test` = lint + the main suite + the host-facing tests under A1111's pins + the browser test.
SHELL := bash
PYTHON ?= python3
TORCH ?= torch==2.13.0
VENV ?= .venv
A1111_VENV ?= .venv-a1111
BIN := $(VENV)/bin
A1111_BIN := $(A1111_VENV)/bin
RUN := HF_HUB_OFFLINE=1 $(BIN)/python
A1111_RUN := HF_HUB_OFFLINE=1 $(A1111_BIN)/python
EXAMPLE ?= examples/orbit-3d.json
OUT ?= outputs/demo
# JUnit reports of the last `make test` parts (.ci/run adds them up).
REPORTS ?= outputs/test-reports
# The host-facing tests that also run under A1111's pins; a folder not written yet is left out.
A1111_TESTS = $(wildcard tests/ui tests/api tests/host tests/jobs) tests/render/test_options.py
# The A1111-pinned interpreter: test_options.py compares RenderOptions under its pydantic 1, and
# the browser test serves the tab with its gradio 3.41 too. Set, the tests fail if it is missing.
export WAN_A1111_PYTHON := $(abspath $(A1111_BIN)/python)

.PHONY: setup setup-a1111 setup-e2e browser demo ui test test-main test-a1111 test-e2e lint format clean

setup: $(VENV)/.installed

# $(call new_venv,folder,requirements,constraints): torch first (pinned CPU wheel), then the rest.
define new_venv
	$(PYTHON) -m venv $(1)
	$(1)/bin/pip install --quiet --upgrade pip
	$(1)/bin/pip install --quiet $(TORCH)
	$(1)/bin/pip install --quiet -r $(2) -c $(3)
	touch $(1)/.installed
endef

$(VENV)/.installed: requirements.txt requirements-test.txt constraints-test.txt
	$(call new_venv,$(VENV),requirements-test.txt,constraints-test.txt)

setup-a1111: $(A1111_VENV)/.installed

$(A1111_VENV)/.installed: requirements.txt requirements-a1111.txt constraints-a1111.txt
	$(call new_venv,$(A1111_VENV),requirements-a1111.txt,constraints-a1111.txt)

# The browser test's driver goes into the main test environment only; the browser itself is
# Debian's chromium (installed here with apt-get when missing), never Playwright's own download.
setup-e2e: browser $(VENV)/.installed-e2e

browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		sudo=""; [ "$$(id -u)" -eq 0 ] || sudo="sudo"; \
		export DEBIAN_FRONTEND=noninteractive; \
		$$sudo apt-get update -qq && $$sudo apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver fonts-liberation >/dev/null && echo "chromium installed"; \
	fi

$(VENV)/.installed-e2e: $(VENV)/.installed requirements-e2e.txt
	$(BIN)/pip install --quiet -r requirements-e2e.txt
	touch $@

demo: setup
	@mkdir -p $(OUT)
	$(RUN) -m wan plan $(EXAMPLE) --model tiny-t2v --plot $(OUT)/motion.png
	$(RUN) -m wan guide $(EXAMPLE) --model tiny-t2v --size 256x144 --out $(OUT)/guide.mp4
	$(RUN) -m wan render $(EXAMPLE) --model tiny-t2v --size 256x144 --steps 8 --out $(OUT)/run
	@echo "camera guide: $(OUT)/guide.mp4 (the camera path, no model); video: $(OUT)/run/video.mp4 (a tiny random smoke model: its frames are noise)"

# The WAN tab and the API without a WebUI (Ctrl+C stops); PORT=0 picks a free port.
PORT ?= 7870
ui: setup
	$(RUN) -m wan ui --port $(PORT)

test: lint test-main test-a1111 test-e2e

test-main: setup setup-a1111
	@mkdir -p $(REPORTS)
	@TIMEFORMAT='main suite took %0Rs'; time $(RUN) -m pytest -q -m "not e2e" --ignore=tests/e2e \
		--junitxml=$(REPORTS)/main.xml

test-a1111: setup-a1111
	@mkdir -p $(REPORTS)
	@TIMEFORMAT='A1111 suite took %0Rs'; time $(A1111_RUN) -m pytest -q -m "not e2e" \
		--junitxml=$(REPORTS)/a1111.xml $(A1111_TESTS)

test-e2e: setup-e2e setup-a1111
	@mkdir -p $(REPORTS)
	@TIMEFORMAT='browser test took %0Rs'; time $(RUN) -m pytest -q -m e2e \
		--junitxml=$(REPORTS)/e2e.xml tests/e2e

lint: setup
	@TIMEFORMAT='lint took %0Rs'; time { $(BIN)/ruff check . && $(BIN)/ruff format --check .; }

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) $(A1111_VENV) outputs .pytest_cache .ruff_cache
