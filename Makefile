# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
SWIFT ?= swift
DEB_PACKAGES := libsqlite3-dev libcurl4-openssl-dev libpq-dev sqlite3
# What the tests run besides the binary: the HTML report's tests render it in a real browser and read the
# PDF's pages; openssl serves TLS and checks signatures; python3 with zoneinfo/tzdata, csv and venv is the
# independent oracle (and installs Datasette from PyPI in a venv under .build); bash checks the completion;
# the CentralStore tests start a throwaway PostgreSQL cluster of their own (initdb, pg_ctl); the install check
# renders the man page (man-db, groff-base) and parses the zsh completion (zsh).
TEST_DEB_PACKAGES := chromium poppler-utils fonts-dejavu-core openssl python3 python3-venv tzdata bash postgresql \
	man-db groff-base zsh
BIN := .build/debug

.PHONY: deps test-deps install-debs build test install-check install uninstall demo sim bench-tools bench-build bench bench-store bench-store-run bench-scale bench-scale-archives fuzz clean

# Installs Debian's -dev packages for the system-library targets, only when missing.
deps:
	@$(MAKE) --no-print-directory install-debs PACKAGES="$(DEB_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory install-debs PACKAGES="$(TEST_DEB_PACKAGES)"

install-debs:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

# Every test; then scripts/test-accounting.py lists each skip and known issue, fails on one that
# Tests/allowed-skips.txt does not allow, and repeats the test runner's closing line.
TEST_EVENTS := .build/test-events.jsonl
test: build test-deps
	@rm -f $(TEST_EVENTS)
	@status=0; $(SWIFT) test --event-stream-output-path $(TEST_EVENTS) --event-stream-version 0 || status=$$?; \
	python3 scripts/test-accounting.py $(TEST_EVENTS) Tests/allowed-skips.txt || status=1; \
	$(MAKE) --no-print-directory install-check || status=1; \
	exit $$status

# `make install` into a temporary DESTDIR, with the debug build (a release build takes minutes here; the
# files installed and the checks are the same): the binary runs, the completions load, the man page renders.
install-check:
	@scripts/check-install.sh

# Installs cloudron-audit, its bash, zsh and fish completions and its man page under $(DESTDIR)$(PREFIX)
# (issue 11, item 8). A release build with the Swift runtime linked statically, so that the binary runs
# where no Swift is installed; INSTALL_BUILD=debug installs the debug build instead. Only the cloudron-audit
# product is built for release: TestSupport, a plain target, imports Testing, which release builds lack.
# The man page comes from swift-argument-parser's generate-manual plugin, run in debug for the same reason
# (it builds every product first); its text does not depend on the build. The plugin writes the blank lines
# of --help's paragraphs as they are, which mdoc warns about: they become paragraph breaks (.Pp).
# The static Foundation's URLSession (FoundationNetworking, which the simulator's FlyingFox imports for `demo`)
# asks the linker for libcurl, which would then be loaded at every start with its 30 dependencies: CCurl
# defines every libcurl function the binary calls and opens the library only when sync needs it.
NO_LIBCURL_AUTOLINK := -Xswiftc -Xfrontend -Xswiftc -disable-autolink-library -Xswiftc -Xfrontend -Xswiftc curl
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL_BUILD ?= release
INSTALL_ROOT = $(DESTDIR)$(PREFIX)
INSTALLED_FILES = bin/cloudron-audit share/man/man1/cloudron-audit.1 share/bash-completion/completions/cloudron-audit \
	share/zsh/site-functions/_cloudron-audit share/fish/vendor_completions.d/cloudron-audit.fish
install: deps
	@case "$(INSTALL_BUILD)" in release) flags="-c release --static-swift-stdlib $(NO_LIBCURL_AUTOLINK)";; debug) flags="";; \
	  *) echo "INSTALL_BUILD must be release or debug, not $(INSTALL_BUILD)" >&2; exit 64;; esac; \
	$(SWIFT) build --product cloudron-audit $$flags && \
	bin="$$($(SWIFT) build --show-bin-path $$flags)/cloudron-audit" && \
	$(SWIFT) package generate-manual --configuration debug >/dev/null && \
	page=".build/plugins/GenerateManual/outputs/cloudron-audit/cloudron-audit.1" && [ -s "$$page" ] && \
	install -d "$(INSTALL_ROOT)/bin" "$(INSTALL_ROOT)/share/man/man1" "$(INSTALL_ROOT)/share/bash-completion/completions" \
	  "$(INSTALL_ROOT)/share/zsh/site-functions" "$(INSTALL_ROOT)/share/fish/vendor_completions.d" && \
	install -m 755 "$$bin" "$(INSTALL_ROOT)/bin/cloudron-audit" && \
	sed 's/^$$/.Pp/' "$$page" > "$(INSTALL_ROOT)/share/man/man1/cloudron-audit.1" && \
	chmod 644 "$(INSTALL_ROOT)/share/man/man1/cloudron-audit.1" && \
	"$$bin" --generate-completion-script bash > "$(INSTALL_ROOT)/share/bash-completion/completions/cloudron-audit" && \
	"$$bin" --generate-completion-script zsh > "$(INSTALL_ROOT)/share/zsh/site-functions/_cloudron-audit" && \
	"$$bin" --generate-completion-script fish > "$(INSTALL_ROOT)/share/fish/vendor_completions.d/cloudron-audit.fish" && \
	chmod 644 "$(INSTALL_ROOT)/share/bash-completion/completions/cloudron-audit" \
	  "$(INSTALL_ROOT)/share/zsh/site-functions/_cloudron-audit" "$(INSTALL_ROOT)/share/fish/vendor_completions.d/cloudron-audit.fish" && \
	{ [ -n "$(DESTDIR)" ] || ! command -v mandb >/dev/null || mandb -q "$(PREFIX)/share/man" 2>/dev/null || true; } && \
	echo "installed under $(INSTALL_ROOT): $(INSTALLED_FILES)"

uninstall:
	cd "$(INSTALL_ROOT)" && rm -f $(INSTALLED_FILES)

# The main job: the built-in simulator, a first sync into demo.db, and its status.
demo: build
	rm -f demo.db demo.db-wal demo.db-shm demo.db.lock
	$(BIN)/cloudron-audit demo --db demo.db

# A simulated Cloudron server on 127.0.0.1; prints its URL and tokens.
sim: build
	$(BIN)/fake-cloudron --events 5000

# Benchmarks (issue 5): release build, data from the simulator, every figure in one run, into BENCHMARKS.md.
# Installs what the comparisons need when missing: ripgrep, jq, curl, time (apt), sqlite-utils (PyPI, in a venv).
BENCH_SCRATCH := .build-bench
BENCH_DEBS := ripgrep jq curl sqlite3 time postgresql
bench-tools: deps
	@$(MAKE) --no-print-directory install-debs PACKAGES="$(BENCH_DEBS)"

# Static Swift runtime: as a release would ship it, and a few ms less to start every command (B3).
# Only the shipped and bench products: TestSupport (a plain target) imports Testing, which a release build lacks.
bench-build: bench-tools
	for p in cloudron-audit fake-cloudron cloudron-audit-bench; do \
	  $(SWIFT) build -c release --static-swift-stdlib $(NO_LIBCURL_AUTOLINK) --scratch-path $(BENCH_SCRATCH) --product $$p || exit 1; done

bench: bench-build
	@[ -x $(BENCH_SCRATCH)/venv/bin/sqlite-utils ] || { \
	  python3 -m venv $(BENCH_SCRATCH)/venv && $(BENCH_SCRATCH)/venv/bin/pip install -q sqlite-utils; }
	$(BENCH_SCRATCH)/release/cloudron-audit-bench --bin $(BENCH_SCRATCH)/release --work $(BENCH_SCRATCH)/bench-data \
	  --venv $(BENCH_SCRATCH)/venv --output BENCHMARKS.md --notes Benchmarks/NOTES.md
	@$(MAKE) --no-print-directory bench-store-run

# The central PostgreSQL store (issue 13): push of 100k events against psql \copy of the same rows, and, when
# bench-scale's 1M archive is cached (STORE_LARGE=PATH names another; it is only read, copied once), its push and
# reports on PostgreSQL next to SQLite; its own section of BENCHMARKS.md. Part of `make bench`; `make bench-store`
# runs it alone.
bench-store: bench-build
	@$(MAKE) --no-print-directory bench-store-run

STORE_LARGE ?= $(BENCH_SCRATCH)/scale/events-1000000.db
bench-store-run:
	$(BENCH_SCRATCH)/release/cloudron-audit-bench store --bin $(BENCH_SCRATCH)/release --work $(BENCH_SCRATCH)/store \
	  --output BENCHMARKS.md --large $(STORE_LARGE)

# Reports, search, export and size at 1M and 10M events (issue 12), into its own section of BENCHMARKS.md.
# The archives are built once by direct ingest of simulator events and cached in $(BENCH_SCRATCH)/scale
# (about 25 GB at 10M); delete that folder to rebuild them. SCALE_SIZES=1000000 runs the 1M size alone.
# `make bench-scale-archives` only builds them (or upgrades cached ones to the current schema), to run ahead.
SCALE_SIZES ?= 1000000,10000000
bench-scale bench-scale-archives: bench-build
	$(BENCH_SCRATCH)/release/cloudron-audit-bench scale --bin $(BENCH_SCRATCH)/release --work $(BENCH_SCRATCH)/scale \
	  --output BENCHMARKS.md --sizes $(SCALE_SIZES) $(if $(filter bench-scale-archives,$@),--build-only)

clean:
	rm -rf .build

# libFuzzer: RawJSON against the JSON oracle (SQLite's json_valid plus UTF-8, NUL and depth rules), crashing
# on any disagreement (issue 10). Not part of `make test`. Runs FUZZ_SECONDS (default 600) at the lowest
# priority; the corpus it grows and any crashing input stay in .build-fuzz/.
FUZZ_SCRATCH := .build-fuzz
FUZZ_SECONDS ?= 600
fuzz: deps
	mkdir -p $(FUZZ_SCRATCH)/corpus
	nice -n 19 $(SWIFT)c -O -sanitize=fuzzer,address -parse-as-library -module-name RawJSONFuzz -I Sources/CSQLite \
	  Sources/Client/RawJSON.swift Tests/ClientTests/JSONOracle.swift Fuzz/RawJSONFuzz.swift -lsqlite3 \
	  -o $(FUZZ_SCRATCH)/rawjson-fuzz
	nice -n 19 $(FUZZ_SCRATCH)/rawjson-fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 -dict=Fuzz/json.dict \
	  -artifact_prefix=$(FUZZ_SCRATCH)/ -print_final_stats=1 $(FUZZ_SCRATCH)/corpus Fuzz/seeds
