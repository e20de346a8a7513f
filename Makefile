# Hài Lòng: `make run` sets everything up and starts the server; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
DATA_DIR ?= data
WORKERS ?= 2
export DATA_DIR

.PHONY: install run test bench stress lint clean

install: $(VENV)/.installed $(if $(wildcard package-lock.json),node_modules/.installed)

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package-lock.json package.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

run: install
	$(BIN)/flask --app server setup
	@echo
	@echo "Hài Lòng đang chạy tại / is running at: http://$(HOST):$(PORT)/"
	@echo "Dữ liệu / data: $(DATA_DIR)   (đổi bằng / override with HOST=, PORT=, DATA_DIR=)"
	@echo "Tạo điều tra viên cho ODK Collect / create a Collect surveyor:"
	@echo "  $(BIN)/flask --app server users create dtv01 --role collector --server-url http://<địa-chỉ-máy>:$(PORT)"
	@echo
	$(BIN)/gunicorn -c gunicorn.conf.py --workers $(WORKERS) --bind $(HOST):$(PORT) 'server:create_app()'

test: install
	$(BIN)/python -m pytest -q

# BIG=1 adds 3,000,000 submissions to the scale bench (generated once into bench/out/3m)
bench: install
	$(BIN)/python -m bench.submissions
	$(BIN)/python -m bench.indices
	$(BIN)/python -m bench.exports
	$(BIN)/python -m bench.sampling
	$(BIN)/python -m bench.scale $(if $(BIG),--big)

# static security checks; bandit.yaml says what is skipped and why
lint: install
	$(BIN)/bandit -q -c bandit.yaml -r forms server storage aggregate exports sampling bench

# 200 phones uploading a day's backlog at once, on loopback; WORKERS= sets gunicorn's workers
stress: install
	$(BIN)/python -m bench.stress --workers $(WORKERS)

clean:
	rm -rf $(VENV) node_modules .pytest_cache
