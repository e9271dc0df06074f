# Aegis — the two commands of the quick start are `make run` and `make test`.
# Both install what is missing (apt-get as root, or via sudo), then build.

SHELL := /bin/bash
JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30

# Debian packages needed to build and run aegisd.
BUILD_PKGS := g++ cmake ninja-build pkg-config ccache make git openssl curl sqlite3 \
  libssl-dev libsqlite3-dev zlib1g-dev libboost-dev nlohmann-json3-dev \
  libtomlplusplus-dev libcli11-dev libgtest-dev libgmock-dev libsrtp2-dev \
  libusrsctp-dev libbenchmark-dev
# Extra packages the test suites need (fuzzing with clang/libFuzzer, node for interop tests,
# chromium for the browser end-to-end test).
TEST_PKGS := clang libclang-rt-14-dev libfuzzer-14-dev iproute2 procps chromium janus nftables

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT := DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get -y -qq -o=Dpkg::Use-Pty=0

.PHONY: all deps test-deps build web build-asan run test unit e2e fuzz-build fuzz-smoke format clean bench

all: build

# Installs only what is missing; silent when everything is there.
deps:
	@missing=$$(for p in $(BUILD_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if ! command -v npm >/dev/null; then missing="$$missing nodejs npm"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(APT) update >/dev/null && $(APT) install --no-install-recommends $$missing >/dev/null; \
	fi

test-deps: deps
	@missing=$$(for p in $(TEST_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if ! command -v npm >/dev/null; then missing="$$missing nodejs npm"; fi; \
	if [ -n "$$missing" ]; then \
	  echo "installing:" $$missing; \
	  $(APT) update >/dev/null && $(APT) install --no-install-recommends $$missing >/dev/null; \
	fi
	@if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  echo "installing npm packages"; npm ci --no-audit --no-fund --loglevel=error; fi

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps web $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Browser SDK + demo into web/dist/ (aegisd serves /sdk/ and /demo/ from there).
web: deps
	@if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  echo "installing npm packages"; npm ci --no-audit --no-fund --loglevel=error; fi
	@npm run --silent build:web

$(ASAN_BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DAEGIS_SANITIZE=ON >/dev/null

# ASan + UBSan build of the unit tests.
build-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)

run: deps build
	@mkdir -p var && chmod 700 var
	@echo "Starting aegisd (config: aegis.toml, data: ./var). Ctrl-C stops it."
	exec ./$(BUILD)/bin/aegisd --config aegis.toml

unit: build
	ctest --test-dir $(BUILD) -L unit --output-on-failure -j $(JOBS)

# Browser end-to-end test only: headless Chromium against aegisd (tests/e2e).
e2e: test-deps build
	ctest --test-dir $(BUILD) -L e2e --output-on-failure

test: test-deps build build-asan
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(ASAN_BUILD) -L unit --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory fuzz-smoke

fuzz-build: test-deps
	@if ! echo 'int LLVMFuzzerTestOneInput(const char*d,unsigned long n){return 0;}' | \
	    clang -x c -fsanitize=fuzzer - -o /tmp/aegis-fuzz-probe 2>/dev/null; then \
	  echo "fuzz: clang's libFuzzer runtime is not available; skipping fuzz targets"; exit 0; fi; \
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DAEGIS_FUZZ=ON -DAEGIS_SANITIZE=ON -DAEGIS_BUILD_TESTS=OFF >/dev/null && \
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target aegis_fuzzers

# Runs every fuzz target for FUZZ_SECONDS on its committed corpus; fails on a crash, leak or timeout.
fuzz-smoke: fuzz-build
	@if [ ! -d $(FUZZ_BUILD)/bin ]; then exit 0; fi; \
	set -e; for f in $(FUZZ_BUILD)/bin/*_fuzzer; do \
	  name=$$(basename $$f _fuzzer); corpus=fuzz/corpus/$$name; work=$(FUZZ_BUILD)/corpus/$$name; \
	  mkdir -p $$work $(FUZZ_BUILD)/artifacts; \
	  echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	  log=$(FUZZ_BUILD)/$$name.log; \
	  if ! $$f -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
	      -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$name- -print_final_stats=1 \
	      $$work $$( [ -d $$corpus ] && echo $$corpus ) >$$log 2>&1; then \
	    tail -n 60 $$log; echo "fuzz: $$name FAILED (input saved under $(FUZZ_BUILD)/artifacts/)"; exit 1; \
	  fi; \
	  grep -E "^stat::(number_of_executed_units|peak_rss_mb)" $$log | tr '\n' ' '; echo; \
	done

# Aegis vs Janus with aegis-bench (servers pinned to CPU 0, generator to CPU 1, A/B alternated);
# writes docs/PERFORMANCE.md. Needs the janus package (apt-get install janus) and root for the
# network namespace; ROUNDS, DURATION, SCENARIOS tune it (bench/run_bench.sh).
bench: test-deps build
	BUILD=$(BUILD) bash bench/run_bench.sh

format:
	@find src apps tests fuzz bench -name '*.cc' -o -name '*.h' 2>/dev/null | xargs -r clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
