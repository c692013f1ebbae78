package sdkcheck

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// targets are the darwin architectures Go supports, as zig names them.
var targets = []string{"aarch64-macos.13.0", "x86_64-macos.13.0"}

// headerDir is the directory of secapi_darwin.h (package codesign).
const headerDir = "../.."

// toolchain returns zig and the framework directory, or skips the test:
// both are only on machines set up for it (see check.sh).
func toolchain(t *testing.T) (zig, frameworks string) {
	t.Helper()
	frameworks = os.Getenv("DARWIN_FRAMEWORKS")
	if frameworks == "" {
		t.Skip("DARWIN_FRAMEWORKS is not set: no SDK headers to check secapi_darwin.h against")
	}
	for _, fw := range []string{"CoreFoundation", "Security"} {
		if _, err := os.Stat(filepath.Join(frameworks, fw+".framework", "Headers")); err != nil {
			t.Skipf("DARWIN_FRAMEWORKS=%s has no %s.framework/Headers", frameworks, fw)
		}
	}
	return findZig(t), frameworks
}

// findZig returns the zig that darwin-go uses ($ZIG, else its cached copy,
// else zig on PATH), or skips the test.
func findZig(t *testing.T) string {
	t.Helper()
	if zig := os.Getenv("ZIG"); zig != "" {
		return zig
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	zig := filepath.Join(cache, "darwin-go", "zig-0.11.0", "zig")
	if _, err := os.Stat(zig); err == nil {
		return zig
	}
	zig, err := exec.LookPath("zig")
	if err != nil {
		t.Skip("no zig: set ZIG or run /work/shared/tools/darwin-go once")
	}
	return zig
}

// compile compiles testdata/sdkcheck.c for target with secapi_darwin.h taken
// from include, returning the compiler's output and whether it succeeded.
// zig 0.11 cc cannot -fsyntax-only, so the object goes to a temporary file.
func compile(t *testing.T, zig, frameworks, target, include string) (string, bool) {
	t.Helper()
	src, err := filepath.Abs(filepath.Join("testdata", "sdkcheck.c"))
	require.NoError(t, err)
	cmd := exec.Command(zig, "cc", "-target", target, "-std=gnu11", "-Wall", "-Wextra", "-Werror",
		"-F"+frameworks, "-I"+include, "-c", "-o", filepath.Join(t.TempDir(), "sdkcheck.o"), src)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func TestHeaderMatchesSDK(t *testing.T) {
	zig, frameworks := toolchain(t)
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			out, ok := compile(t, zig, frameworks, target, headerDir)
			require.True(t, ok, "secapi_darwin.h disagrees with the SDK:\n%s", out)
		})
	}
}

// TestCheckCatchesMismatch shows the check has teeth: each edit makes one
// declaration of a copy of the header wrong, and the check must fail on it.
func TestCheckCatchesMismatch(t *testing.T) {
	zig, frameworks := toolchain(t)
	header, err := os.ReadFile(filepath.Join(headerDir, "secapi_darwin.h"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name, old, new, want string
	}{
		{"enum value", "X(kSecCSSigningInformation, 1 << 1)", "X(kSecCSSigningInformation, 1 << 2)", "kSecCSSigningInformation: value differs"},
		{"typedef width", "typedef signed long CFIndex;", "typedef int CFIndex;", "typedef redefinition"},
		{"flags width", "typedef uint32_t SecCSFlags;", "typedef uint64_t SecCSFlags;", "typedef redefinition"},
		{"parameter type", "SecStaticCodeRef *staticCode);", "SecCodeRef *staticCode);", "conflicting types for 'SecStaticCodeCreateWithPath'"},
		{"parameter count", "SecCSFlags flags, CFStringRef *text);", "CFStringRef *text);", "conflicting types for 'SecRequirementCopyString'"},
		{"return type", "extern const UInt8 *CFDataGetBytePtr", "extern UInt8 *CFDataGetBytePtr", "conflicting types for 'CFDataGetBytePtr'"},
		{"constant type", "extern const CFStringRef kSecCodeInfoUnique;", "extern CFStringRef kSecCodeInfoUnique;", "kSecCodeInfoUnique"},
		{"struct field", "\tCFIndex length;", "\tint length;", "CFRange.length"},
		{"struct size", "\tCFDictionaryHashCallBack hash;\n", "", "CFDictionaryKeyCallBacks: size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, 1, bytes.Count(header, []byte(tc.old)), "edit %q must match the header once", tc.old)
			dir := t.TempDir()
			bad := bytes.Replace(header, []byte(tc.old), []byte(tc.new), 1)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "secapi_darwin.h"), bad, 0o600))
			out, ok := compile(t, zig, frameworks, targets[0], dir)
			require.False(t, ok, "the check accepted a wrong header (%s)", tc.name)
			require.Contains(t, out, tc.want)
		})
	}
}

// declRE finds the names secapi_darwin.h declares: functions and extern
// objects, typedefs (plain and function pointer) and enumerators.
var declRE = regexp.MustCompile(`(?m)^extern [^(;]*?\b(\w+)\(|^extern const \w+ (\w+);|^typedef [^(;]*?\b(\w+);|^typedef [^;]*\(\*(\w+)\)|\bX\((\w+),`)

// TestHeaderDeclaresOnlySDKNames checks that every name the header declares
// is one the SDK declares too. A redeclaration is checked for agreement by
// TestHeaderMatchesSDK, but a misspelt name would just be a new declaration.
func TestHeaderDeclaresOnlySDKNames(t *testing.T) {
	zig, frameworks := toolchain(t)
	header, err := os.ReadFile(filepath.Join(headerDir, "secapi_darwin.h"))
	require.NoError(t, err)
	var names []string
	for _, m := range declRE.FindAllStringSubmatch(string(header), -1) {
		for _, g := range m[1:] {
			if g != "" {
				names = append(names, g)
			}
		}
	}
	require.Greater(t, len(names), 60, "the header declares more names than that: is declRE broken?")

	// The SDK's headers, preprocessed: comments are gone, so a name counts
	// only if the SDK really declares (or uses) it.
	src, err := os.ReadFile(filepath.Join("testdata", "sdkcheck.c"))
	require.NoError(t, err)
	sdkOnly, _, ok := strings.Cut(string(src), "#define GOXPC_SECAPI_SDKCHECK")
	require.True(t, ok)
	cmd := exec.Command(zig, "cc", "-target", targets[0], "-F"+frameworks, "-E", "-x", "c", "-")
	cmd.Stdin = strings.NewReader(sdkOnly)
	sdk, err := cmd.Output()
	require.NoError(t, err)
	sdkWords := make(map[string]bool)
	for _, w := range regexp.MustCompile(`\w+`).FindAll(sdk, -1) {
		sdkWords[string(w)] = true
	}
	var missing []string
	for _, name := range names {
		if !sdkWords[name] {
			missing = append(missing, name)
		}
	}
	assert.Empty(t, missing, "secapi_darwin.h declares names the SDK does not")
}

// TestHeaderStandsAlone checks what codesign needs the header for: it
// compiles with libSystem headers only, no framework, for both targets.
func TestHeaderStandsAlone(t *testing.T) {
	zig := findZig(t)
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			cmd := exec.Command(zig, "cc", "-target", target, "-std=gnu11", "-Wall", "-Wextra", "-Werror",
				"-I"+headerDir, "-x", "c", "-c", "-o", filepath.Join(t.TempDir(), "alone.o"), "-")
			cmd.Stdin = strings.NewReader("#include \"secapi_darwin.h\"\nint goxpc_use(void) { return kSecCSSigningInformation; }\n")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
		})
	}
}

// TestEveryRefHasGetTypeID needs no toolchain. cgo gives FooRef the Go type
// uintptr, which codesign's Go code relies on (CoreFoundation may hand out
// tagged pointers that must never be Go pointers), only when the preamble
// declares FooGetTypeID; the SDK does for every opaque type, so the header
// must too, even for functions no Go code calls.
func TestEveryRefHasGetTypeID(t *testing.T) {
	header, err := os.ReadFile(filepath.Join(headerDir, "secapi_darwin.h"))
	require.NoError(t, err)
	refs := regexp.MustCompile(`(?m)^typedef (?:const )?struct __\w+(?: const)? \*(\w+)Ref;`).FindAllStringSubmatch(string(header), -1)
	require.GreaterOrEqual(t, len(refs), 13, "fewer opaque types than codesign uses: is the pattern broken?")
	for _, m := range refs {
		decl := "extern CFTypeID " + m[1] + "GetTypeID(void);"
		assert.True(t, bytes.Contains(header, []byte(decl)), "%sRef needs %q", m[1], decl)
	}
}
