#!/usr/bin/env bash
# Checks the C wire codec of cshim (goxpc_build, goxpc_walk) on Linux against
# a fake libxpc (fake.c, inc/): Go-encoded vectors must build and walk back
# byte for byte, mutated and truncated input must never crash or leak (run
# under valgrind when it is installed), mutants must be accepted by the C
# builder exactly when the Go decoder accepts them, attachments and limits
# must hold.
# Usage, from the module root: xpc/cshim/testdata/fakexpc/run.sh
# Needs a clang with -fblocks: $CC, else $ZIG or the zig that darwin-go caches.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cc="${CC:-${ZIG:-${XDG_CACHE_HOME:-$HOME/.cache}/darwin-go/zig-0.11.0/zig} cc -target x86_64-linux-gnu}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/vec" "$work/mut"
go run "$here/gen" "$work/vec" "$work/mut"
$cc -fblocks -g -O1 -I"$here/inc" -I"$here/../.." -D'__builtin_available(...)=1' \
  -o "$work/shimtest" "$here/test.c" "$here/fake.c" "$here/../../shim_darwin.c"
cd "$work"
if command -v valgrind >/dev/null; then
  NMUT=60 valgrind -q --error-exitcode=9 --leak-check=full ./shimtest
else
  ./shimtest
fi
