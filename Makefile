# jetliner: the commands the README gives.
#   make demo   set everything up and read the bundled example data
#   make test   set everything up and run every test (Go and Python)
#   make bench  the side-by-side benchmark against other Avro readers
#   make lint   gofmt, go vet, ruff, mypy
#   make docs   build the documentation site into site/ (mkdocs, warnings are errors)
#   make hostile  mutated and truncated files read for HOSTILE_TIME seconds (default 600)

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
LIB := python/jetliner/libjetliner.so
GO_SOURCES := $(shell find core cgo -name '*.go' -not -name '*_test.go') $(wildcard cgo/*.c cgo/*.h) go.mod go.sum
FUZZTIME ?= 20s
HOSTILE_TIME ?= 600
# The S3 test server: versitygw, a real S3 implementation over a local directory.
TOOLS := .tools/bin
VERSITYGW_VERSION := v1.8.0
VERSITYGW := $(TOOLS)/versitygw

.PHONY: all build venv tools demo test test-go test-python docs examples lint fuzz hostile bench clean

all: build

# The Python environment: the package installed in editable mode with its test
# dependencies. Re-run when the packaging files change.
$(VENV)/.installed: pyproject.toml setup.py
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test,dev]"
	touch $@

venv: $(VENV)/.installed

$(LIB): $(GO_SOURCES)
	CGO_ENABLED=1 go build -buildmode=c-shared -trimpath -o $(LIB) ./cgo
	rm -f python/jetliner/libjetliner.h

build: $(LIB)

# Test tools, installed into .tools (not into the user's GOPATH or the venv).
$(VERSITYGW):
	GOBIN=$(abspath $(TOOLS)) go install github.com/versity/versitygw/cmd/versitygw@$(VERSITYGW_VERSION)

# Polars' 64-bit-index runtime, beside the venv's own (32-bit) one and of the same
# version: a test runs Polars with it (POLARS_FORCE_PKG=64) to check the UInt64
# row index end to end.
POLARS64 := .tools/polars64
$(POLARS64)/.installed: $(VENV)/.installed
	rm -rf $(POLARS64)
	$(PY) -m pip install --quiet --no-deps --target $(POLARS64) \
		"polars-runtime-64==$$($(PY) -c 'import polars; print(polars.__version__)')"
	touch $@

tools: $(VERSITYGW) $(POLARS64)/.installed

demo: venv build
	$(PY) examples/demo.py

test: lint test-go test-python docs

test-go: $(VERSITYGW)
	go vet ./...
	go test ./...
	go test -race ./core/scan/

test-python: venv build tools
	$(PY) -m pytest -q tests

# The documentation site: user guide and API reference from the docstrings.
# --strict fails on any warning (a broken link, a docstring out of step).
docs: venv
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# The example scripts and the quickstart notebook, executed (make test runs them
# too, as part of the Python tests: tests/test_examples.py).
examples: venv build tools
	$(PY) -m pytest -q tests/test_examples.py

lint: venv
	@test -z "$$(gofmt -l core cgo)" || (gofmt -l core cgo; echo "gofmt would change the files above"; exit 1)
	go vet ./...
	$(VENV)/bin/ruff check python tests examples bench
	$(VENV)/bin/ruff format --check python tests examples
	$(VENV)/bin/mypy

# Short runs of every fuzz target; FUZZTIME=5m for a longer look.
fuzz:
	go test ./core/codec -run '^$$' -fuzz FuzzDecompress -fuzztime $(FUZZTIME)
	go test ./core/decode -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	go test ./core/decode -run '^$$' -fuzz FuzzLanes -fuzztime $(FUZZTIME)
	go test ./core/container -run '^$$' -fuzz FuzzReader -fuzztime $(FUZZTIME)

# The long-run hostile suite: every codec and schema family, mutated and read
# through every API until HOSTILE_TIME runs out; failing inputs are kept in
# hostile-failures/. (make test runs it for a few seconds.)
hostile: venv build
	$(PY) tests/hostile.py --seconds $(HOSTILE_TIME) --out hostile-failures

bench: venv build
	JETLINER_PYTHON=$(abspath $(PY)) bash bench/run.sh

clean:
	rm -f $(LIB) python/jetliner/libjetliner.h
	rm -rf build dist python/*.egg-info
