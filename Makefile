# SPDX-License-Identifier: EUPL-1.2
# Everyday commands; CMake does the building. See README.md.
BUILD     ?= build
ASAN      ?= build-asan
FUZZ      ?= build-fuzz
JOBS      ?= $(shell nproc)
TEST_JOBS ?= 2
CMAKE_OPTS ?=

.PHONY: all deps build check test test-asan asan fuzz-smoke fuzz demo demo-stop format install uninstall deb clean bench bench-smtp help screenshots reliability

all: build

help:
	@echo "make demo       run the demo (installs what it needs)"
	@echo "make check      install test dependencies, build, run every test (normal + ASan/UBSan)"
	@echo "make build      build into $(BUILD)/"
	@echo "make test       run the tests of the normal build only"
	@echo "make fuzz-smoke run each libFuzzer target briefly (clang)"
	@echo "make fuzz       run each libFuzzer target FUZZ_SECONDS (default 600; FUZZ_TARGETS=... picks some)"
	@echo "make reliability load (RELIABILITY_MESSAGES, default 2000) and two nodes on Ceph; as root, long"
	@echo "make format     clang-format every C file"
	@echo "make screenshots renew docs/screenshots (pages and mails, headless chromium)"
	@echo "make install    install programs, templates and man pages"
	@echo "make uninstall  remove what make install installed (configuration and data stay)"
	@echo "make deb        build the Debian package into $(DEB)/"

deps:
	@scripts/install-deps.sh build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DBD_WERROR=ON $(CMAKE_OPTS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN)/CMakeCache.txt:
	cmake -S . -B $(ASAN) -DBD_WERROR=ON -DBD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug $(CMAKE_OPTS)

asan: deps $(ASAN)/CMakeCache.txt
	cmake --build $(ASAN) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(TEST_JOBS)

test-asan: asan
	cd $(ASAN) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(TEST_JOBS)

# The test command: everything, in the normal and in the sanitizer build.
check:
	@scripts/install-deps.sh test
	$(MAKE) test
	$(MAKE) test-asan
	$(MAKE) fuzz-smoke

# Each libFuzzer target for a while; any crash, leak or sanitizer report fails.
# New inputs go to $(FUZZ)/corpus/<target>; the seeds in tests/fuzz/corpus are only read.
# fuzz-smoke (in make check) gives each FUZZ_SMOKE_SECONDS; `make fuzz FUZZ_SECONDS=N`
# is the long run, N seconds per target.
FUZZ_SMOKE_SECONDS ?= 20
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?= fuzz-token fuzz-manifest fuzz-rewrite fuzz-base64 fuzz-conf fuzz-gateway-request

$(FUZZ)/CMakeCache.txt:
	CC=clang cmake -S . -B $(FUZZ) -DBD_FUZZ=ON -DBD_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug $(CMAKE_OPTS)

# $(call fuzz_run,SECONDS,WHAT)
define fuzz_run
	cmake --build $(FUZZ) -j $(JOBS) --target $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ)/corpus/$$t $(FUZZ)/artifacts && \
	  echo "$(2): $$t for $(1) s" && \
	  $(FUZZ)/tests/fuzz/$$t -max_total_time=$(1) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ)/artifacts/$$t- $(FUZZ)/corpus/$$t tests/fuzz/corpus/$$t \
	    > $(FUZZ)/$$t.log 2>&1 || { tail -50 $(FUZZ)/$$t.log; echo "$(2): $$t FAILED"; exit 1; }; \
	  grep -E '^stat::number_of_executed_units' $(FUZZ)/$$t.log; \
	done
endef

fuzz-smoke: deps $(FUZZ)/CMakeCache.txt
	$(call fuzz_run,$(FUZZ_SMOKE_SECONDS),fuzz-smoke)

fuzz: deps $(FUZZ)/CMakeCache.txt
	$(call fuzz_run,$(FUZZ_SECONDS),fuzz)

# The load run and the two-node run on a private Ceph RGW (docs/RELIABILITY.md): as root,
# not in make check (2000 messages take a while). Prints the counts; fails on any mismatch.
RELIABILITY_MESSAGES ?= 2000
reliability:
	@scripts/install-deps.sh reliability
	@$(MAKE) --no-print-directory build
	RELIABILITY_MESSAGES=$(RELIABILITY_MESSAGES) python3 tests/reliability/run.py $(BUILD)

demo:
	@scripts/install-deps.sh demo
	@$(MAKE) --no-print-directory build
	@scripts/demo.sh start

demo-stop:
	@scripts/demo.sh stop

conf/bestanden.conf: lib/conf/conf_table.c lib/conf/conf.c lib/conf/conf_keys.def lib/conf/conf_rules.def
	$(MAKE) build
	$(BUILD)/cli/bestanden check-config --example > $@

# The browser tests write their screenshots of the pages and the rewritten mails here; the
# recipients' test adds the verification, management and withdrawn pages.
screenshots: build
	python3 tests/browser/test_browser.py $(BUILD) docs/screenshots
	python3 tests/e2e/test_recipients.py $(BUILD) docs/screenshots

format:
	find lib cli milter gateway tests bench -name '*.[ch]' -print0 | xargs -0 clang-format -i

install: build
	cmake --install $(BUILD)

# Removes every file $(BUILD)/install_manifest.txt lists (cmake --install writes it), then
# the directories of ours that are left empty. Configuration, keys and data are not there.
uninstall:
	@test -f $(BUILD)/install_manifest.txt || \
	  { echo "uninstall: no $(BUILD)/install_manifest.txt; run make install (same BUILD) first"; exit 1; }
	xargs -d '\n' rm -fv < $(BUILD)/install_manifest.txt
	@awk -F/ '{ p = ""; for (i = 2; i < NF; i++) { p = p "/" $$i; if (p ~ /\/bestanden/) print p } }' \
	  $(BUILD)/install_manifest.txt | sort -ru | xargs -r -d '\n' rmdir -v --ignore-fail-on-non-empty

# The Debian package (debian/), built with dpkg-buildpackage; the results go to $(DEB)/.
DEB     ?= build-deb
DEB_PKGS = debhelper dpkg-dev devscripts fakeroot

deb: deps
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "deb: installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	dpkg-buildpackage -us -uc -b -j$(JOBS)
	mkdir -p $(DEB)
	v=$$(dpkg-parsechangelog -S Version); a=$$(dpkg-architecture -qDEB_HOST_ARCH); \
	  mv ../bestanden_$${v}_$$a.deb ../bestanden-dbgsym_$${v}_$$a.deb \
	     ../bestanden_$${v}_$$a.buildinfo ../bestanden_$${v}_$$a.changes $(DEB)/
	debian/rules clean >/dev/null
	@ls -l $(DEB)/*.deb

bench: build
	cmake --build $(BUILD) --target bench

# Postfix alone against Postfix with a null milter, bestanden and MIMEDefang (docs/PERFORMANCE.md);
# as root. E.g. make bench-smtp BENCH_SMTP="--rounds 5 --sizes 0,1m".
BENCH_SMTP ?= --rounds 3 --sizes 0,100k,1m,10m,25m
bench-smtp: build
	python3 bench/smtp/run.py --build $(BUILD) $(BENCH_SMTP)

clean:
	rm -rf $(BUILD) $(ASAN) $(FUZZ)
