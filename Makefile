# pixelpilot: `make demo` runs the main job, `make test` runs the test suite.
# Both install what they need on a fresh Debian machine: system packages with apt-get (when
# missing) and a .venv with the project.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
# Chromium for the browser environment, Xvfb/xdotool/xclip/Tk for the desktop environment,
# fonts for rendered test screens, adb for the Android client tests, openbox and the Debian
# applications of the desktop task suite.
APT_PACKAGES := chromium xvfb xauth xdotool xclip x11-utils python3-tk python3-venv \
  fonts-dejavu-core adb openbox mousepad galculator pcmanfm gnumeric xterm
# The CPU build of torch (the pinned version resolves to a local CPU wheel on our machines; an
# unpinned torch pulls several GB of CUDA packages). On a GPU machine install your CUDA torch
# into .venv first: a torch that is already installed is kept.
TORCH := torch==2.13.0
SLOW_TIMEOUT := 1800

.PHONY: demo test test-fast lint system-deps install-demo install-dev clean

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  if [ "$$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.demo-installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -e '.[browser,ocr]'
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -c "import torch" 2>/dev/null || $(PIP) install '$(TORCH)'
	$(PIP) install -e '.[all,dev]'
	touch $@ $(VENV)/.demo-installed

install-demo: system-deps $(VENV)/.demo-installed
install-dev: system-deps $(VENV)/.dev-installed

# The main job on an embedded default: the CPU OCR policy solves a task of the bundled web
# sandbox in headless Chromium (no GPU, no model download).
DEMO_TASK ?= sandbox:close-modal
demo: install-demo
	$(VENV)/bin/pixelpilot run --env browser --model ocr --task $(DEMO_TASK) --max-steps 10 \
	  --out runs/demo-$$(date +%Y%m%d-%H%M%S) --report

lint: install-dev
	$(PY) -m ruff check src tests bench
	$(PY) -m ruff format --check src tests bench
	$(PY) -m mypy

# The whole suite: the default tests, then the slow ones (@pytest.mark.slow) in a separate,
# time-bounded step.
# PIXELPILOT_REQUIRE_ALL=1: a test marked desktop/browser/torch whose parts are missing stops the
# run instead of being skipped (see tests/conftest.py).
test: install-dev lint
	PIXELPILOT_REQUIRE_ALL=1 $(PY) -m pytest
	PIXELPILOT_REQUIRE_ALL=1 timeout $(SLOW_TIMEOUT) $(PY) -m pytest -m slow; status=$$?; \
	if [ $$status -eq 5 ]; then echo "no slow tests selected"; status=0; fi; exit $$status

# Only the default (fast) tests.
test-fast: install-dev lint
	$(PY) -m pytest

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
