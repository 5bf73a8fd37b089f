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

EXTRA_CLEAN = build

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# pg_regress writes its results under build/regress.
installcheck: | build/regress
build/regress:
	mkdir -p $@

# Rebuild objects when a header changes.
DEPFLAGS = -MMD -MP
override CXXFLAGS += $(DEPFLAGS)
-include $(OBJS:.o=.d)
EXTRA_CLEAN += $(OBJS:.o=.d)
