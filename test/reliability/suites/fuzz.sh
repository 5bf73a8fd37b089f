# libFuzzer on every parser in src/core: each test/reliability/fuzz/NAME_fuzzer.cpp
# is built with clang (ASan + UBSan + libFuzzer) against all of src/core and run
# for a bounded time from its committed seed corpus fuzz/corpus/NAME (new inputs
# go to a scratch directory, never into the repository).
source "$REL/lib.sh"
seconds=${FUZZ_SECONDS:-20}
[[ $FULL == 1 ]] && seconds=${FUZZ_SECONDS:-300}
command -v clang++ >/dev/null || { fail fuzz.toolchain "clang++ not found (scripts/install-deps installs clang)"; exit 0; }
mkdir -p "$WORK/fuzz/core"
flags=(-std=c++17 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -I"$ROOT/src")
# src/core once, instrumented, shared by every target.
core_objs=()
for c in "$ROOT"/src/core/*.cpp; do
  o="$WORK/fuzz/core/$(basename "$c" .cpp).o"
  core_objs+=("$o")
  clang++ "${flags[@]}" -c "$c" -o "$o" 2>>"$WORK/fuzz/core.build" &
done
wait
for o in "${core_objs[@]}"; do
  [[ -f "$o" ]] || { fail fuzz.core_builds "$(head -5 "$WORK/fuzz/core.build" | tr '\n' ' ')"; exit 0; }
done
total_execs=0
total_crashes=0
for src in "$REL"/fuzz/*_fuzzer.cpp; do
  name=$(basename "$src" _fuzzer.cpp)
  bin="$WORK/fuzz/$name"
  if ! clang++ "${flags[@]}" -fsanitize=fuzzer "$src" "${core_objs[@]}" -lfmt -o "$bin" 2>"$WORK/fuzz/$name.build"; then
    fail "fuzz.$name.builds" "$(head -5 "$WORK/fuzz/$name.build" | tr '\n' ' ')"; continue
  fi
  seeds="$REL/fuzz/corpus/$name"
  [[ -d "$seeds" ]] || { fail "fuzz.$name.has_seed_corpus" "no $seeds"; continue; }
  mkdir -p "$WORK/fuzz/$name.corpus"
  (cd "$WORK/fuzz" && "$bin" -max_total_time="$seconds" -timeout=5 -rss_limit_mb=1024 -print_final_stats=1 \
     -artifact_prefix="$WORK/fuzz/$name-" "$WORK/fuzz/$name.corpus" "$seeds" >"$WORK/fuzz/$name.log" 2>&1)
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/fuzz/$name.log" | tail -1)
  execs=${execs:-0}
  total_execs=$((total_execs + execs))
  artifacts=$(ls "$WORK/fuzz/$name-"* 2>/dev/null | wc -l)
  figure "$name: $execs executions in $seconds s, corpus $(ls "$WORK/fuzz/$name.corpus" | wc -l) new inputs, $artifacts crash artifacts"
  if [[ $rc -eq 0 && $artifacts -eq 0 && $execs -gt 0 ]]; then
    pass "fuzz.$name.no_crash"
  else
    total_crashes=$((total_crashes + 1))
    a=$(ls "$WORK/fuzz/$name-"* 2>/dev/null | head -1)
    fail "fuzz.$name.no_crash" "exit $rc; $(grep -m3 -E 'ERROR|SUMMARY|deadly' "$WORK/fuzz/$name.log" | tr '\n' ' ')${a:+ input (base64): $(base64 -w0 "$a" | head -c 300)}"
  fi
done
figure "fuzz total: $total_execs executions, $total_crashes crashing targets"
