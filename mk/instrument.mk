# Instrumented builds of chronicle's own objects, chosen by variables on the make
# command line (scripts/coverage and scripts/sanitize set them):
#
#   make COVERAGE=1   -O0 --coverage: gcov counters (.gcno beside each object,
#                     .gcda written when a process that loaded the library exits)
#   make SANITIZE=1   AddressSanitizer + UndefinedBehaviorSanitizer, and Assert()
#                     compiled in for our files (USE_ASSERT_CHECKING)
#
# Only our objects are instrumented; the server stays the distribution's build.
# The sanitizer runtime must then be the first library of the server process:
# scripts/sanitize starts it with LD_PRELOAD. USE_ASSERT_CHECKING for our files
# alone is safe with a server built without it: in PostgreSQL 15's headers it
# turns Assert() into calls of ExceptionalCondition (exported by every server),
# castNode() into an inline check, and adds a `check` member to
# MemoryContextMethods (a struct we never define or embed) plus declarations of
# assert-only server functions (which we never call; the library would not load).
#
# Switching modes rebuilds everything: build/mode records the mode the objects
# were built in, and every object depends on it.

ifeq ($(COVERAGE)$(SANITIZE),11)
$(error COVERAGE=1 and SANITIZE=1 are separate builds; choose one)
endif

INSTRUMENT_MODE := plain
ifeq ($(COVERAGE),1)
INSTRUMENT_MODE := coverage
# -O0 (after PGXS's -O2) keeps one line one counter; the link pulls in libgcov.
override CXXFLAGS += -O0 --coverage
SHLIB_LINK += --coverage
endif
ifeq ($(SANITIZE),1)
INSTRUMENT_MODE := sanitize
# -O1 keeps the run fast while the reports keep exact lines. UBSan aborts on its
# first report, so a report can never scroll by as a warning.
SANITIZE_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
  -fno-omit-frame-pointer -fno-optimize-sibling-calls
override CXXFLAGS += -O1 -g $(SANITIZE_FLAGS)
override CPPFLAGS := -DUSE_ASSERT_CHECKING $(CPPFLAGS)
SHLIB_LINK += $(SANITIZE_FLAGS)
endif

# The mode file changes only when the mode does, so an unchanged mode rebuilds
# nothing.
INSTRUMENT_STAMP := $(dir $(lastword $(MAKEFILE_LIST)))../build/mode
$(shell mkdir -p $(dir $(INSTRUMENT_STAMP)); \
  [ "$$(cat $(INSTRUMENT_STAMP) 2>/dev/null)" = $(INSTRUMENT_MODE) ] || echo $(INSTRUMENT_MODE) >$(INSTRUMENT_STAMP))
$(OBJS): $(INSTRUMENT_STAMP)
EXTRA_CLEAN += $(OBJS:.o=.gcno) $(OBJS:.o=.gcda)
