# TrailWatch: every entry point a user or CI needs. `make test` is what CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
COLLECTION_LINK := $(VENV)/collections/ansible_collections/trailwatch/aws
export PATH := $(BIN):$(PATH)
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(VENV)/collections
export ANSIBLE_FORCE_COLOR := 0
export PY_COLORS := 0
export ANSIBLE_NOCOLOR := 1

.PHONY: help venv test unit molecule demo lint clean

help:
	@echo "make demo   deploy the pipeline into a local moto_server, twice, and show the summary"
	@echo "make test   every check CI runs (installs what it needs into $(VENV))"

# The venv is rebuilt when requirements.txt changes; the collection is linked into it so that
# `trailwatch.aws` resolves from this checkout.
$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

venv: $(VENV)/.installed $(COLLECTION_LINK)

lint: venv
	$(BIN)/ruff check plugins tests

unit: venv
	$(BIN)/python -m pytest tests/unit -q

molecule: venv
	cd extensions && for scenario in default teardown; do \
	  $(BIN)/molecule test -s $$scenario || exit 1; \
	done

test: venv lint unit molecule

demo: venv
	$(BIN)/python tests/helpers/demo.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
