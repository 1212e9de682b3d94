#!/usr/bin/env bash
# Gets a fresh clone ready, run by npm before `start` and `test` (package.json):
#   setup.sh        builds the engine (build.sh) and installs the dev dependencies
#   setup.sh test   the same, then makes sure the Chromium for tests/browser/ and
#                   SIMDe (libsimde-dev) and the 32-bit libraries (-m32) for the native
#                   sanitizer tests are there
# Safe to re-run: each step does nothing when its work is already done. Browsers
# come from Debian's chromium package, never from a Playwright download.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=/usr/bin/chromium

step_build() {
  echo "setup: engine (build.sh)"
  bash build.sh
}

step_node_modules() {
  if [ ! -f package-lock.json ]; then
    echo "setup: dev dependencies: no package-lock.json; running npm install"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund
  elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    # npm writes node_modules/.package-lock.json on every install: older than
    # the lock file means the lock changed since (a pull or a checkout).
    echo "setup: dev dependencies: node_modules missing or older than package-lock.json; running npm ci"
    # Should npm ci refuse the lock file (an npm older or newer than the one
    # that wrote it), npm install installs from the same lock; --no-save and
    # the copy put back keep the committed lock as it is, so the tree stays clean.
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund || {
      echo "setup: dev dependencies: npm ci refused the lock file; running npm install (the lock file is left as committed)"
      local saved
      saved=$(mktemp)
      cp package-lock.json "$saved"
      PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-save --no-audit --no-fund || { cp "$saved" package-lock.json; rm -f "$saved"; exit 1; }
      cp "$saved" package-lock.json && rm -f "$saved"
      touch node_modules/.package-lock.json # newer than the lock put back: the next run does not install again
    }
  else
    echo "setup: dev dependencies are up to date"
  fi
}

# install_debian WHAT PACKAGE: installs a Debian package as root, or says how.
install_debian() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: $1: installing Debian's $2 package"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq "$2" >/dev/null
  else
    echo "setup: $1 is missing; install it: 'sudo apt-get install $2' on Debian, then run 'bash tests/setup.sh test' again" >&2
  fi
}

step_chromium() {
  if [ -x "$CHROMIUM" ]; then echo "setup: chromium for browser tests: $CHROMIUM"
  else install_debian "chromium for browser tests" chromium; fi
}

step_simde() {
  if [ -f /usr/include/simde/wasm/simd128.h ]; then echo "setup: SIMDe for the native sanitizer tests: present"
  else install_debian "SIMDe for the native sanitizer tests" libsimde-dev; fi
}

step_m32() {
  if [ -f /usr/lib32/crt1.o ]; then echo "setup: 32-bit libc for the native sanitizer tests: present"
  else install_debian "32-bit libc for the native sanitizer tests" libc6-dev-i386; fi
  if [ -f /usr/lib/gcc/x86_64-linux-gnu/12/32/libasan.so ]; then echo "setup: 32-bit gcc runtime for the native sanitizer tests: present"
  else install_debian "32-bit gcc runtime for the native sanitizer tests" lib32gcc-12-dev; fi
}

# clang's libFuzzer, 32-bit, for tests/fuzz.test.js (tests/fuzz/run.sh)
step_fuzzer() {
  if command -v clang >/dev/null 2>&1; then echo "setup: clang for the native fuzzer: present"
  else install_debian "clang for the native fuzzer" clang; fi
  if ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-i386.a >/dev/null 2>&1; then echo "setup: 32-bit libFuzzer: present"
  else install_debian "32-bit libFuzzer" libclang-rt-14-dev; fi
  if [ -d /usr/lib/gcc/x86_64-linux-gnu/12/32 ] && ls /usr/lib/gcc/x86_64-linux-gnu/12/32/libstdc++.so >/dev/null 2>&1; then echo "setup: 32-bit C++ runtime for libFuzzer: present"
  else install_debian "32-bit C++ runtime for libFuzzer" lib32stdc++-12-dev; fi
}

step_build
step_node_modules
if [ "${1:-}" = test ]; then step_chromium; step_simde; step_m32; step_fuzzer; fi
