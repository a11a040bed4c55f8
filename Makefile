# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
SWIFT ?= swift
DEB_PACKAGES := libsqlite3-dev libcurl4-openssl-dev sqlite3
BIN := .build/debug

.PHONY: deps build test demo sim bench clean

# Installs Debian's -dev packages for the system-library targets, only when missing.
deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

test: build
	$(SWIFT) test

# The main job: the built-in simulator, a first sync into demo.db, and its status.
demo: build
	rm -f demo.db demo.db-wal demo.db-shm demo.db.lock
	$(BIN)/cloudron-audit demo --db demo.db

# A simulated Cloudron server on 127.0.0.1; prints its URL and tokens.
sim: build
	$(BIN)/fake-cloudron --events 5000

bench: deps
	$(SWIFT) build -c release
	.build/release/cloudron-audit-bench

clean:
	rm -rf .build
