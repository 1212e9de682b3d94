#!/usr/bin/env bash
# Builds the native fuzzer (fuzz_engine.c) 32-bit with ASan and UBSan and runs
# it for a number of seconds (default 60) from the committed seeds plus the
# corpus it grew before (tests/artifacts/fuzz/corpus, git-ignored):
#   bash tests/fuzz/run.sh [seconds]    npm test runs 60 s (tests/fuzz.test.js); npm run fuzz runs 600
# 32-bit because only there is size_t as narrow as in wasm. Needs clang with
# libFuzzer and the i386 C libraries: tests/setup.sh test installs them.
# Exit 0: no finding; otherwise the reproducer is in tests/artifacts/fuzz/.
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_TO_RUN=${1:-60}
OUT=tests/artifacts/fuzz
mkdir -p "$OUT/corpus"
EXE="$OUT/fuzz_engine"
SOURCES=$(ls c/*.c | grep -v testing.c)
if [ ! -x "$EXE" ] || [ -n "$(find c tests/fuzz -newer "$EXE" -name '*.[ch]' -print -quit)" ]; then
  echo "fuzz: building $EXE (clang -m32, libFuzzer, ASan, UBSan, SIMD kernels through SIMDe)"
  # shellcheck disable=SC2086
  clang -m32 -std=c99 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
    -Wno-deprecated-declarations -DLW_SIMD -DLW_POISON -Itests/native/include $SOURCES tests/fuzz/fuzz_engine.c -lm -o "$EXE"
fi
echo "fuzz: running for ${SECONDS_TO_RUN} s"
# rss and malloc limits just under what a wasm32 engine could ever hold (2 GiB)
exec "$EXE" "$OUT/corpus" tests/fuzz/seeds -max_total_time="$SECONDS_TO_RUN" -timeout=20 -rss_limit_mb=3000 \
  -malloc_limit_mb=2100 -print_final_stats=1 -artifact_prefix="$OUT/" 2>&1
