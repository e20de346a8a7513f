# Hài Lòng: `make run` sets everything up and starts the server; `make test` runs the tests
# (`make test-fast`: those that need no server process and no browser).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
DATA_DIR ?= data
WORKERS ?= 2
PUBLIC_URL ?=
export DATA_DIR PUBLIC_URL

.PHONY: install run test test-fast test-tools bench stress lint clean

install: $(VENV)/.installed $(if $(wildcard package-lock.json),node_modules/.installed)

$(VENV)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

node_modules/.installed: package-lock.json package.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# hailong.env tells every later `flask --app server` command run here which data this server uses
run: install
	@{ echo '# make run: the server of this directory (server/config.py reads it when DATA_DIR is not set)'; \
	   echo 'DATA_DIR=$(abspath $(DATA_DIR))'; echo 'PORT=$(PORT)'; \
	   $(if $(PUBLIC_URL),echo 'PUBLIC_URL=$(PUBLIC_URL)';) } > hailong.env
	$(BIN)/flask --app server setup
	@echo
	@echo "Hài Lòng đang chạy tại / is running at: http://$(HOST):$(PORT)/"
	@echo "Dữ liệu / data: $(abspath $(DATA_DIR))   (đổi bằng / override with HOST=, PORT=, DATA_DIR=, PUBLIC_URL=)"
	@echo "Các lệnh flask chạy tại thư mục này dùng dữ liệu đó (hailong.env) / flask commands run here use it (hailong.env)."
	@echo "Tạo điều tra viên cho ODK Collect / create a Collect surveyor:"
	@echo "  $(BIN)/flask --app server users create dtv01 --role collector --server-url http://<địa-chỉ-máy>:$(PORT)"
	@echo
	$(BIN)/gunicorn -c gunicorn.conf.py --workers $(WORKERS) --bind $(HOST):$(PORT) 'server:create_app()'

# every test; stops before installing anything when Chromium or Java is missing
test: test-tools install
	$(BIN)/python -m pytest -q

# the tests that start no server process and no browser (tiers: tests/harness/tiers.py)
test-fast: install
	@$(PYTHON) -m tests.harness.requirements
	$(BIN)/python -m pytest -q -m "not server and not browser"

test-tools:
	@$(PYTHON) -m tests.harness.requirements --browser

# BIG=1 adds 3,000,000 submissions to the scale bench (generated once into bench/out/3m)
bench: install
	$(BIN)/python -m bench.submissions
	$(BIN)/python -m bench.indices
	$(BIN)/python -m bench.exports
	$(BIN)/python -m bench.sampling
	$(BIN)/python -m bench.odata
	$(BIN)/python -m bench.scale $(if $(BIG),--big)

# static security checks; bandit.yaml says what is skipped and why
lint: install
	$(BIN)/bandit -q -c bandit.yaml -r forms server actions storage aggregate exports sampling bench tests/harness vocabulary.py catalogue.py

# 200 phones uploading a day's backlog at once, on loopback; WORKERS= sets gunicorn's workers
stress: install
	$(BIN)/python -m bench.stress --workers $(WORKERS)

clean:
	rm -rf $(VENV) node_modules .pytest_cache
