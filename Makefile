# The two commands a newcomer needs: `make demo` (offline end-to-end demo) and `make test`.
# Both create .venv with the pinned CPU packages of requirements/ci.txt on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test test-envs lint venv gpu-smoke

$(BIN)/snakemake: requirements/ci.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/ci.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

venv: $(BIN)/snakemake

## Offline demo: synthetic arXiv records -> MiniLM classifier -> results/demo/card.md (CPU, minutes).
demo: venv
	HF_HUB_OFFLINE=1 $(BIN)/snakemake --cores 2 --configfile config/demo.yaml -- results/demo/card.md
	@echo "Card written: results/demo/card.md"

## Linters, then the test suite.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/Snakefile workflow/rules
	HF_HUB_OFFLINE=1 $(BIN)/snakemake --lint --configfile config/demo.yaml

test: lint
	HF_HUB_OFFLINE=1 $(BIN)/pytest -n 2 --dist loadfile --durations=15

## The data env of envs/ built from its pip part (CPU torch) in a fresh venv by Snakemake's conda
## deployment (a stand-in for conda: tests/fake_conda.py), and the data stages run in it (minutes).
test-envs: venv
	HF_HUB_OFFLINE=1 $(BIN)/pytest -p no:xdist -m envs --durations=5 tests/test_envs.py

## The GPU throughput check's smoke run: its steps on this CPU with the tiny BERT (minutes).
gpu-smoke: venv .gpu-data/info.json
	SMOKE=1 PYTHON=$(BIN)/python bash benchmarks/gpu_check.sh

# Real abstracts of ../shared, tokenized for the GPU check (benchmarks/gpu_prepare.sh data).
.gpu-data/info.json: benchmarks/gpu_prepare.py benchmarks/common.py
	PYTHON=$(BIN)/python bash benchmarks/gpu_prepare.sh data
