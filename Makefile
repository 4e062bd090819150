# Two entry points for a fresh machine (see README): `make book` and `make test`.
# `make book` installs only what building needs; `make test` adds the test tools.
# Each stamp is remade when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: pyproject.toml | $(VENV)/bin/python
	$(PIP) -e .
	touch $@

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PIP) -e '.[test]'
	touch $(VENV)/.runtime $@

.PHONY: book test lint
book: $(VENV)/.runtime
	$(PY) compile.py build .

test: $(VENV)/.installed browser proxy epubcheck pdftools
	$(PY) -m ruff check anthology tests compile.py scripts bench
	$(PY) -m pytest -q

# The browser tests drive the system's Chromium. As root on Debian it is installed here;
# elsewhere they are skipped with a reason (unless ANTHOLOGY_REQUIRE_BROWSER is set).
.PHONY: browser
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	     chromium >/dev/null; } || echo "no Chromium: the browser tests will be skipped"

# The reverse-proxy test runs the README's nginx setup (deploy/nginx.conf) in front of serve.
# As root on Debian nginx-light is installed here (its service is not started); elsewhere it is skipped.
.PHONY: proxy
proxy:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	     nginx-light >/dev/null; } || echo "no nginx: the reverse-proxy test will be skipped"

# The EPUB tests run W3C's epubcheck from Debian's package (a Java program); installed here the same way.
.PHONY: epubcheck
epubcheck:
	@[ -f /usr/share/java/epubcheck.jar ] && command -v java >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] \
	  && command -v apt-get >/dev/null 2>&1 && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install \
	     -y -qq --no-install-recommends epubcheck >/dev/null; } || echo "no epubcheck: the EPUB validation tests will be skipped"

# The tagged-PDF tests read the book with poppler (pdfinfo -struct-text) and qpdf; installed the same way.
.PHONY: pdftools
pdftools:
	@command -v pdfinfo >/dev/null 2>&1 && command -v qpdf >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] \
	  && command -v apt-get >/dev/null 2>&1 && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install \
	     -y -qq --no-install-recommends poppler-utils qpdf >/dev/null; } || echo "no poppler-utils/qpdf: the tagged-PDF tests will be skipped"

lint: $(VENV)/.installed
	$(PY) -m ruff check anthology tests compile.py scripts bench
