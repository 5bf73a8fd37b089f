# chronicle: a PGXS build. `make && make install` builds chronicle.so and installs
# it with the control file and every version script. One target per test suite,
# each against a running server where chronicle is installed (PGHOST/PGPORT/PGUSER
# from the environment, as PGXS does):
#   make installcheck        pg_regress (sql/, expected/)
#   make prove_installcheck  pgTAP through pg_prove (test/pgtap)
#   make upgradecheck        every version path (test/upgrade/run)
#   make reliabilitycheck    crash, concurrency, bad input, ... (test/reliability/run)
#   make unitcheck           the PostgreSQL-free core's GoogleTest tests (CMake, ctest; no server)
# Habits: `make format` / `make format-check` (clang-format), `make lint`
# (clang-tidy over every translation unit), `make compile_commands.json`.
# WERROR=1 turns warnings into errors (CI and scripts/test set it; a plain `make`
# with a newer compiler must not fail on a warning that compiler added).
# scripts/test runs every suite against a throwaway cluster.

EXTENSION = chronicle
MODULE_big = chronicle

SOURCES := $(sort $(wildcard src/*.cpp src/*/*.cpp))
OBJS = $(SOURCES:.cpp=.o)

DATA = $(sort $(wildcard migrations/chronicle--*.sql))

REGRESS = $(sort $(basename $(notdir $(wildcard sql/*.sql))))
REGRESS_OPTS = --inputdir=. --outputdir=build/regress

PG_CONFIG ?= pg_config

# PGXS's bitcode rules do not handle C++ well, and JIT gains nothing here.
override with_llvm = no

# PostgreSQL's headers are system headers to us: warnings (and WERROR=1) apply to
# our code only.
PG_CPPFLAGS = -Isrc -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-register -Wno-missing-field-initializers -fno-omit-frame-pointer
ifeq ($(WERROR),1)
PG_CXXFLAGS += -Werror
endif
SHLIB_LINK = -lfmt -lstdc++
# A server built with lz4 gets audit row images compressed by liblz4 directly
# (src/audit/sink.cpp); the headers come from liblz4-dev.
ifneq ($(shell grep -s '^\#define USE_LZ4 1' $(shell $(PG_CONFIG) --includedir-server)/pg_config.h),)
SHLIB_LINK += -llz4
endif

EXTRA_CLEAN = build

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)
include mk/instrument.mk  # COVERAGE=1, SANITIZE=1: instrumented builds

# pg_regress writes its results under build/regress.
installcheck: | build/regress
build/regress:
	mkdir -p $@

# Rebuild objects when a header changes.
DEPFLAGS = -MMD -MP
override CXXFLAGS += $(DEPFLAGS)
-include $(OBJS:.o=.d)
EXTRA_CLEAN += $(OBJS:.o=.d)

# --- Test suites (scripts/test runs each under a time limit) ---------------------
.PHONY: prove_installcheck unitcheck upgradecheck reliabilitycheck

# pgTAP files through pg_prove, in a database of their own (re)created here.
# PROVE_TESTS and PROVE_FLAGS as in PGXS's prove_installcheck. posts_plans.sql
# reads the query texts from the test-only module (make -C test/boundary install).
PG_PROVE ?= pg_prove
PROVE_TESTS ?= $(sort $(wildcard test/pgtap/*.sql))
PGTAP_DB ?= chronicle_tap
prove_installcheck:
	psql -qX -d postgres -c 'DROP DATABASE IF EXISTS $(PGTAP_DB)' -c 'CREATE DATABASE $(PGTAP_DB)' >/dev/null
	$(PG_PROVE) -d $(PGTAP_DB) --failures $(PROVE_FLAGS) $(PROVE_TESTS)

# src/core and its unit tests, built by CMake in build/unit. No test found is a failure.
CMAKE ?= cmake
CTEST ?= ctest
UNIT_BUILD_TYPE ?= RelWithDebInfo
unitcheck:
	$(CMAKE) -S . -B build/unit -DCMAKE_BUILD_TYPE=$(UNIT_BUILD_TYPE) -DCHRONICLE_WERROR=$(if $(filter 1,$(WERROR)),ON,OFF) >/dev/null
	$(CMAKE) --build build/unit -j2
	$(CTEST) --test-dir build/unit --output-on-failure --no-tests=error

upgradecheck:
	test/upgrade/run

# RELIABILITY_SUITES: some of them by name (test/reliability/README.md).
reliabilitycheck:
	test/reliability/run $(RELIABILITY_SUITES)

# --- Habits ------------------------------------------------------------------------
.PHONY: format format-check lint compile_commands.json

CLANG_FORMAT ?= clang-format
CLANG_TIDY ?= clang-tidy
RUN_CLANG_TIDY ?= run-clang-tidy
LINT_JOBS ?= 2
# Every C++ file of the repository (the PGXS module, the core, the tests).
CXX_FILES = $(sort $(wildcard src/*.cpp src/*.h src/*/*.cpp src/*/*.h test/unit/*.cpp test/boundary/*.cpp \
                              test/reliability/fuzz/*.cpp))

format:
	$(CLANG_FORMAT) -i $(CXX_FILES)

format-check:
	$(CLANG_FORMAT) --dry-run --Werror $(CXX_FILES)

# Every translation unit of compile_commands.json, with .clang-tidy's checks;
# any finding fails (WarningsAsErrors there). LINT_FILES: a regex to lint fewer.
LINT_FILES ?= $(CURDIR)/(src|test)/
lint: compile_commands.json
	@mkdir -p build
	@$(RUN_CLANG_TIDY) -quiet -j $(LINT_JOBS) -p . -clang-tidy-binary $(CLANG_TIDY) \
	  -extra-arg=-Wno-unknown-warning-option '$(LINT_FILES)' >build/lint.log 2>&1; \
	status=$$?; sed -i 's/\x1b\[[0-9;]*m//g' build/lint.log; \
	grep -v -E '^(clang-tidy|[0-9]+ (warning|error)s? generated|Suppressed [0-9]+ warnings|Use -header-filter)' build/lint.log; \
	if [ $$status -eq 0 ]; then echo "lint: clean ($$(grep -c '^clang-tidy' build/lint.log) translation units)"; \
	else echo "lint: FAILED, findings above (all of it: build/lint.log)"; exit 1; fi

# The PGXS module's compile lines (from make's own dry run, so they are exactly
# what `make` runs), the boundary test module's, the fuzz targets' and CMake's
# (src/core, test/unit), merged into one compile_commands.json.
compile_commands.json:
	$(CMAKE) -S . -B build/unit -DCMAKE_BUILD_TYPE=$(UNIT_BUILD_TYPE) >/dev/null
	scripts/compile-commands build/unit/compile_commands.json >$@

# Packaging (debian/, META.json, RELEASING in README.md).
# `make dist` writes the PGXN distribution chronicle-<META.json version>.zip: the
# committed tree of HEAD (not the work tree) under chronicle-<version>/, without
# what .gitattributes marks export-ignore. META.json must name default_version.
# REGRESS_SKIP (patterns) leaves tests out of installcheck: the packaged runs skip
# boundary%, whose test-only module is never shipped.
REGRESS := $(filter-out $(REGRESS_SKIP),$(REGRESS))
DIST_VERSION = $(shell perl -MJSON::PP -0777 -ne 'print decode_json($$_)->{version}' META.json)
dist:
	test/package/check_meta
	git archive --format=zip --prefix=$(EXTENSION)-$(DIST_VERSION)/ -o $(EXTENSION)-$(DIST_VERSION).zip HEAD
	@echo "dist: $(EXTENSION)-$(DIST_VERSION).zip"
.PHONY: dist
