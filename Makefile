# Two commands matter: `make run` (the bot on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint check translations extract-messages db-upgrade bench clean check-token

run: check-token $(STAMP) translations
	$(BIN)/newsbot run

# pytest exits 5 when it collected nothing: that is a broken suite, not a pass.
test: $(STAMP) translations
	@$(BIN)/pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests (exit 5)"; exit 1; fi; exit $$rc

lint: $(STAMP)
	$(BIN)/ruff check bot handlers digests tests bench
	$(BIN)/mypy bot handlers digests

# Fails before any installing, so a missing token costs nothing.
check-token:
	@if [ -z "$$BOT_TOKEN" ] && ! grep -qs '^BOT_TOKEN=.' .env; then \
		echo "BOT_TOKEN is not set."; \
		echo "Create a bot with @BotFather in Telegram (send /newbot) and copy its token, then run"; \
		echo "    BOT_TOKEN=123456789:AAE... make run"; \
		echo "or put BOT_TOKEN=123456789:AAE... into a .env file in this folder."; \
		exit 2; \
	fi

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres,redis]'
	touch $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile --domain messages --directory locales --statistics

extract-messages: $(STAMP)
	$(BIN)/pybabel extract --no-location --sort-by-file --project district-news-bot \
		-k _:1,1t -k _:1,2 -k __:1,1t -k __:1,2 -k N_ -k lazy_gettext -k ngettext:1,2 -k lazy_ngettext:1,2 \
		-o locales/messages.pot bot handlers digests
	$(BIN)/pybabel update --domain messages --input-file locales/messages.pot \
		--output-dir locales --no-fuzzy-matching

db-upgrade: $(STAMP)
	$(BIN)/newsbot db upgrade

bench: $(STAMP)
	for b in quality understanding digests ingest delivery; do $(BIN)/python -m bench.$$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
