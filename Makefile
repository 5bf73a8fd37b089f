# chronicle: a PGXS build. `make && make install` builds chronicle.so and installs
# it with the control file and every version script; `make installcheck` runs the
# pg_regress suite against a running server (PGHOST/PGPORT). scripts/test runs
# every suite against a throwaway cluster.

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

# PostgreSQL's headers are system headers to us: -Werror applies to our code only.
PG_CPPFLAGS = -Isrc -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Werror -Wno-register -Wno-missing-field-initializers -fno-omit-frame-pointer
SHLIB_LINK = -lfmt -lstdc++
# A server built with lz4 gets audit row images compressed by liblz4 directly
# (src/audit/image_compression.cpp); the headers come from liblz4-dev.
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
