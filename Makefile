# The two set-up commands of the README:
#   make demo   install the serving stack, start Triton on CPU with the embedded model, segment
#               four real photos and a video, replace one sky, write the results to out/demo/, stop
#   make test   install everything (train, convert, serve, client, test) and run the test suite
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check

.PHONY: demo test install-serve install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=24"

# Stamps re-run the install when the dependency lists change.
$(VENV)/.serve: $(PY) pyproject.toml client/pyproject.toml
	$(PIP) install -q -e ./client -e ".[serve]"
	touch $@

$(VENV)/.test: $(PY) pyproject.toml client/pyproject.toml
	$(PIP) install -q -e ./client -e ".[test]"
	$(PY) -m benchmarks.perf_analyzer --install-only
	touch $@ $(VENV)/.serve

install-serve: $(VENV)/.serve
install-test: $(VENV)/.test

demo: $(VENV)/.serve
	$(PY) -m skyseg.demo --out out/demo

test: $(VENV)/.test
	$(PY) -m pytest

clean:
	rm -rf out .pytest_cache
