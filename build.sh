#!/usr/bin/env bash
# Builds the engine's .wasm files into web/wasm/ from a clean checkout:
#   lstm-simd.wasm  the SIMD128 build the package loads where the runtime has SIMD
#   lstm.wasm       the scalar build (reference kernels) for everywhere else
#   lstm-test.wasm  SIMD build exporting both kernel versions (tests only)
#   lstm-f64.wasm   scalar build in double precision, workspace poisoned with NaN (gradient checks only)
# Safe to re-run; rebuilds only when a source in c/ is newer than the output.
set -euo pipefail
cd "$(dirname "$0")"

ensure_emcc() {
  command -v emcc >/dev/null 2>&1 && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "build: emcc not found; installing Debian's emscripten package"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq emscripten >/dev/null
  else
    echo "build: emcc (Emscripten) is missing. Install it: 'sudo apt-get install emscripten' on Debian/Ubuntu," >&2
    echo "       or see https://emscripten.org/docs/getting_started/downloads.html" >&2
    exit 1
  fi
}

SOURCES=(c/api.c c/abi.c c/model.c c/batch.c c/stack.c c/head.c c/layer.c c/cells.c c/stream.c c/loss.c c/optim.c c/rng.c c/kernels_ref.c c/kernels_simd.c c/testing.c c/attention.c)
COMMON=(-O3 -std=c99 -Wall -Wextra -Wno-unused-parameter -Werror -DNDEBUG --no-entry -sSTANDALONE_WASM
        -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=2147483648 -sINITIAL_MEMORY=2097152 -sTOTAL_STACK=1048576
        -sFILESYSTEM=0 -sEXPORTED_FUNCTIONS=_malloc,_free)
OUT=web/wasm
mkdir -p "$OUT"

build() { # name, extra flags...
  local name=$1; shift
  local out="$OUT/$name.wasm"
  if [ -f "$out" ] && [ -z "$(find c build.sh -newer "$out" -print -quit)" ]; then
    echo "build: $out is up to date"; return
  fi
  echo "build: $out"
  emcc "${COMMON[@]}" "$@" "${SOURCES[@]}" -o "$out.tmp.wasm"
  mv "$out.tmp.wasm" "$out"
}

ensure_emcc
build lstm-simd -msimd128 -DLW_SIMD
build lstm
build lstm-test -msimd128 -DLW_SIMD -DLW_TESTING
build lstm-f64 -DLW_DOUBLE -DLW_POISON
