#!/usr/bin/env bash
# check.sh: prove that codesign/secapi_darwin.h, codesign's own declarations of
# the CoreFoundation and Security.framework API, agrees with Apple's headers,
# for both darwin architectures. See testdata/sdkcheck.c for how.
#
#   DARWIN_FRAMEWORKS=/path/to/Frameworks codesign/internal/sdkcheck/check.sh
#
# DARWIN_FRAMEWORKS is a directory holding CoreFoundation.framework and
# Security.framework with their Headers (a macOS SDK's System/Library/Frameworks,
# or the stubs of github.com/hexops/xcode-frameworks). The compiler is zig, as
# for /work/shared/tools/darwin-go: $ZIG, else the one darwin-go caches, else
# zig on PATH. `go test ./codesign/internal/sdkcheck/` runs the same check plus
# tests showing that a wrong declaration fails it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
codesign="$(cd "$here/../.." && pwd)"

[[ -n "${DARWIN_FRAMEWORKS:-}" ]] || { echo "sdkcheck: set DARWIN_FRAMEWORKS to a directory holding Security.framework" >&2; exit 2; }
for fw in CoreFoundation Security; do
  [[ -d "$DARWIN_FRAMEWORKS/$fw.framework/Headers" ]] || { echo "sdkcheck: no $fw.framework/Headers in $DARWIN_FRAMEWORKS" >&2; exit 2; }
done

zig="${ZIG:-}"
if [[ -z "$zig" ]]; then
  zig="${XDG_CACHE_HOME:-$HOME/.cache}/darwin-go/zig-0.11.0/zig"
  [[ -x "$zig" ]] || zig="$(command -v zig || true)"
fi
[[ -n "$zig" && -x "$zig" ]] || { echo "sdkcheck: no zig; set ZIG or run /work/shared/tools/darwin-go once" >&2; exit 2; }

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
# zig 0.11 cc does not support -fsyntax-only, so the object goes to $out.
for target in aarch64-macos.13.0 x86_64-macos.13.0; do
  # With the SDK: every declaration must agree with Apple's.
  "$zig" cc -target "$target" -std=gnu11 -Wall -Wextra -Werror \
    -F"$DARWIN_FRAMEWORKS" -I"$codesign" -c -o "$out/sdkcheck.o" "$here/testdata/sdkcheck.c"
  # Without it: the header stands alone on libSystem headers.
  echo '#include "secapi_darwin.h"' | "$zig" cc -target "$target" -std=gnu11 -Wall -Wextra -Werror \
    -I"$codesign" -x c -c -o "$out/alone.o" -
  echo "sdkcheck: $target: codesign/secapi_darwin.h agrees with $DARWIN_FRAMEWORKS"
done
