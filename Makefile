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

SCENARIOS ?= default teardown presets byo existing_trail multi_account org_baseline notifier

.PHONY: help venv test lint typecheck sanity unit integration build ee molecule demo bench clean

help:
	@echo "make demo   deploy the pipeline into a local moto_server, twice, and show the summary"
	@echo "make test   every check CI runs (installs what it needs into $(VENV))"
	@echo "make bench  time site.yml against moto_server (median of 5), write docs/benchmarks.md"

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

# Python style, types, module docs that render, Ansible content at the production profile.
lint: venv typecheck
	$(BIN)/ruff check plugins tests
	$(BIN)/ruff format --check plugins tests
	for module in $$(ls plugins/modules/*.py | xargs -n1 basename | sed 's/\.py$$//'); do \
	  $(BIN)/ansible-doc trailwatch.aws.$$module > /dev/null || exit 1; \
	done
	$(BIN)/ansible-lint

# mypy over plugins/module_utils (mypy.ini), imported by the name Ansible uses (the checkout linked by `make venv`).
typecheck: venv
	$(BIN)/mypy -p ansible_collections.trailwatch.aws.plugins.module_utils

# ansible-test sanity without a container engine (see tests/sanity/run.sh).
sanity: venv
	bash tests/sanity/run.sh

# Unit tests: module_utils with botocore's Stubber, modules with moto in-process, the Lambda code, the parser.
unit: venv
	$(BIN)/python -m pytest tests/unit -q

# Playbooks against throwaway moto_servers: bad input, faults, least privilege, the drill.
integration: venv
	$(BIN)/python -m pytest tests/integration -q

# The built artifact installs into a fresh collections path and works from there.
build: venv
	bash tests/build/check_artifact.sh

# The execution environment's build context (ansible-builder create) and its content; building the image itself
# needs a container runtime: podman build -t trailwatch-ee .ee/context
ee: venv
	$(BIN)/python tests/build/check_ee.py

# As a user types it: without this Makefile's ANSIBLE_COLLECTIONS_PATH (extensions/molecule/config.yml sets it).
molecule: venv
	for scenario in $(SCENARIOS); do \
	  env -u ANSIBLE_COLLECTIONS_PATH $(BIN)/molecule test -s $$scenario || exit 1; \
	done

test: lint sanity unit integration build ee molecule

# A throwaway moto_server on a free loopback port; stopped whatever happens.
demo: venv
	@set -o pipefail; state=$$(mktemp -d); \
	trap '$(BIN)/python tests/helpers/moto_stand.py stop --state-dir '"$$state"'; rm -rf '"$$state" EXIT; \
	endpoint=$$($(BIN)/python tests/helpers/moto_stand.py start --state-dir "$$state") || exit 1; \
	echo "moto_server at $$endpoint (a local AWS stand-in; nothing reaches AWS)"; \
	unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN; export AWS_ENDPOINT_URL=$$endpoint AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing \
	       AWS_REGION=$${AWS_REGION:-us-east-1} ANSIBLE_DISPLAY_SKIPPED_HOSTS=false; \
	echo "== first run: deploys the pipeline"; \
	$(BIN)/ansible-playbook playbooks/site.yml -e '{"trailwatch_notify_emails": ["me@example.com"]}' || exit 1; \
	echo "== second run: nothing changes"; \
	$(BIN)/ansible-playbook playbooks/site.yml -e '{"trailwatch_notify_emails": ["me@example.com"]}' | tee "$$state/second.log" || exit 1; \
	grep -q 'changed=0 ' "$$state/second.log" || { echo "== the second run changed something: not idempotent"; exit 1; }; \
	echo "== second run changed nothing"

# Not part of `make test`: about ten minutes on a quiet machine; rewrites docs/benchmarks.md. BASELINE=main measures
# that commit side by side in the same run (twice as long); NOTES=file adds its text under the tables.
bench: venv
	$(BIN)/python tests/bench/bench.py --runs $${RUNS:-5} $(if $(BASELINE),--baseline $(BASELINE)) $(if $(NOTES),--notes $(NOTES))

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .ee
