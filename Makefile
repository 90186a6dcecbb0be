# The two commands a newcomer runs: `make run` and `make test`.
PORT ?= 8000
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench

# `make run` needs only the runtime; the test tools (browsers' drivers, the
# AWS CLI) come with the first `make test`.
$(VENV)/.installed-run: requirements.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $(STAMP) $(VENV)/.installed-run

run: $(VENV)/.installed-run
	@case "$$(echo "$$KMSLAB_ALLOW_ANY_CREDENTIALS" | tr A-Z a-z)" in 1|true|yes|on) \
	  echo "WARNING: KMSLAB_ALLOW_ANY_CREDENTIALS is on: requests signed with an access key no sandbox knows" \
	       "are served, unchecked, as the admin of account 123456789012 in a shared open sandbox." >&2;; esac
	$(PY) manage.py migrate --noinput -v 0
	$(PY) manage.py sandbox demo --base-url http://127.0.0.1:$(PORT)
	$(PY) -m kmslab.serve -b 127.0.0.1 -p $(PORT)

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) scripts/bench_core.py
