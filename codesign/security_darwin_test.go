//go:build darwin && cgo

package codesign

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testExecutable returns the path of the running test binary with symlinks
// resolved, as Security.framework reports it.
func testExecutable(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	exe, err = filepath.EvalSymlinks(exe)
	require.NoError(t, err)
	return exe
}

// selfSigned reports whether the test binary carries a signature. On Apple
// silicon the linker always ad-hoc signs; an Intel build may be unsigned.
func selfSigned(t *testing.T) bool {
	t.Helper()
	_, err := InfoForPath(testExecutable(t))
	if errors.Is(err, ErrNotSigned) {
		require.Equal(t, "amd64", runtime.GOARCH, "arm64 binaries are always signed")
		return false
	}
	require.NoError(t, err)
	return true
}

func TestInfoForPathPlatformBinary(t *testing.T) {
	info, err := InfoForPath("/bin/ls")
	require.NoError(t, err)
	assert.Equal(t, "com.apple.ls", info.Identifier)
	assert.Equal(t, "/bin/ls", info.MainExecutable)
	assert.Contains(t, info.Format, "Mach-O")
	assert.False(t, info.Adhoc(), "flags %#x", info.Flags)
	assert.Len(t, info.CDHash, 20)
	assert.NotEmpty(t, info.HashType)
	assert.Empty(t, info.TeamID, "platform binaries have no team ID")
	assert.Contains(t, info.DesignatedRequirement, "anchor apple")
	assert.Contains(t, info.DesignatedRequirement, `identifier "com.apple.ls"`)
	require.NotEmpty(t, info.Certificates, "Apple-signed code has a chain")
	leaf := info.Certificates[0]
	assert.NotEmpty(t, leaf.Raw)
	assert.Len(t, leaf.SHA1, 20)
	assert.Len(t, leaf.SHA256, 32)
	assert.NotEmpty(t, leaf.CommonName)
	root := info.Certificates[len(info.Certificates)-1]
	assert.Equal(t, "Apple Root CA", root.CommonName)
}

func TestInfoForPathTestBinary(t *testing.T) {
	exe := testExecutable(t)
	if !selfSigned(t) {
		t.Skip("test binary is unsigned (Intel build without linker signature)")
	}
	info, err := InfoForPath(exe)
	require.NoError(t, err)
	assert.True(t, info.Adhoc(), "flags %#x", info.Flags)
	assert.NotEmpty(t, info.Identifier)
	assert.Equal(t, exe, info.MainExecutable)
	assert.Len(t, info.CDHash, 20)
	assert.Empty(t, info.Certificates, "ad-hoc code has no chain")
	assert.Empty(t, info.TeamID)
	assert.True(t, info.SigningTime.IsZero(), "ad-hoc code has no CMS signing time")
	assert.Contains(t, info.DesignatedRequirement, "cdhash")
}

// Security.framework and the pure-Go reader must agree where their fields
// overlap (on the Mach-O testdata the reader's tests use).
func TestInfoForPathMatchesPureGoReader(t *testing.T) {
	type overlap struct {
		Identifier, TeamID, HashType, Format string
		CDHash                               []byte
		Flags                                CodeFlags
		Entitlements                         map[string]any
		LeafSubject                          string
	}
	project := func(i *Info) overlap {
		o := overlap{i.Identifier, i.TeamID, i.HashType, i.Format, i.CDHash, i.Flags, i.Entitlements, ""}
		if len(i.Certificates) > 0 {
			o.LeafSubject = i.Certificates[0].Subject
		}
		return o
	}
	for _, name := range []string{"hello-arm64-linker", "hello-arm64-signed"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("..", "testdata", "codesign", name)
			sec, err := InfoForPath(path)
			require.NoError(t, err)
			f, err := Open(path)
			require.NoError(t, err)
			defer f.Close()
			pure := f.Info("")
			require.NotNil(t, pure)
			if len(sec.Certificates) == 0 && len(pure.Certificates) > 0 {
				// Security documents the chain as "partial or absent" when it
				// cannot be built; the testdata's root is not trusted.
				t.Logf("Security.framework returned no chain for %s", name)
				pure.Certificates = nil
			}
			assert.Empty(t, cmp.Diff(project(pure), project(sec)), "pure-Go (-) vs Security.framework (+)")
			abs, err := filepath.Abs(path)
			require.NoError(t, err)
			assert.Equal(t, abs, sec.MainExecutable)
		})
	}
}

func TestInfoForPathErrors(t *testing.T) {
	_, err := InfoForPath(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, fs.ErrNotExist)

	unsigned := filepath.Join(t.TempDir(), "unsigned.sh")
	require.NoError(t, os.WriteFile(unsigned, []byte("#!/bin/sh\necho hi\n"), 0o755))
	_, err = InfoForPath(unsigned)
	assert.ErrorIs(t, err, ErrNotSigned)

	_, err = InfoForPath("/bin/ls\x00/etc/passwd")
	assert.Error(t, err, "a NUL byte must not truncate the path")
}

func TestInfoForRunningSelf(t *testing.T) {
	signed := selfSigned(t)
	exe := testExecutable(t)
	tok, err := taskAuditToken()
	require.NoError(t, err)
	require.Equal(t, os.Getpid(), tok.PID())
	require.Equal(t, uint32(os.Geteuid()), tok.EUID())

	for name, get := range map[string]func() (*Info, error){
		"pid":         func() (*Info, error) { return InfoForPID(os.Getpid()) },
		"audit token": func() (*Info, error) { return InfoForAuditToken(tok) },
	} {
		t.Run(name, func(t *testing.T) {
			info, err := get()
			if !signed {
				assert.ErrorIs(t, err, ErrNotSigned)
				return
			}
			require.NoError(t, err)
			want, err := InfoForPath(exe)
			require.NoError(t, err)
			assert.Equal(t, want.Identifier, info.Identifier)
			assert.Equal(t, want.CDHash, info.CDHash)
			assert.Equal(t, exe, info.MainExecutable)
		})
	}
}

func TestInfoForPIDErrors(t *testing.T) {
	_, err := InfoForPID(-1)
	assert.Error(t, err)
	// pid_max on macOS is 99998; this pid cannot exist.
	_, err = InfoForPID(1 << 30)
	var se *OSStatusError
	require.ErrorAs(t, err, &se, "no such process must be a Security error, not a crash or success")
	t.Logf("InfoForPID(1<<30): %v", err)
}

func TestCheckPath(t *testing.T) {
	require.NoError(t, CheckPath("/bin/ls", "anchor apple"))
	require.NoError(t, CheckPath("/bin/ls", `identifier "com.apple.ls" and anchor apple`))
	require.NoError(t, CheckPath("/bin/ls", ""), "empty requirement checks the signature only")

	err := CheckPath("/bin/ls", `identifier "com.example.nope"`)
	require.ErrorIs(t, err, ErrRequirementNotMet)
	assert.NotErrorIs(t, err, ErrInvalidRequirement)
	var se *OSStatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, int32(errSecCSReqFailed), se.Status)
	assert.Equal(t, "SecStaticCodeCheckValidityWithErrors", se.Func)
	assert.Contains(t, err.Error(), "errSecCSReqFailed")
}

func TestCheckPathMalformedRequirement(t *testing.T) {
	for _, req := range []string{
		"anchor apple and (",
		`identifier "unterminated`,
		"certificate leaf[",
		"identifier \"a\"\x00 or anchor apple",
	} {
		err := CheckPath("/bin/ls", req)
		require.Error(t, err, "%q", req)
		assert.ErrorIs(t, err, ErrInvalidRequirement, "%q", req)
		assert.NotErrorIs(t, err, ErrRequirementNotMet, "%q", req)
	}
	var se *OSStatusError
	require.ErrorAs(t, CheckPath("/bin/ls", "anchor apple and ("), &se)
	assert.Equal(t, "SecRequirementCreateWithStringAndErrors", se.Func)
	assert.NotEmpty(t, se.Message, "Apple explains the syntax error")
}

func TestCheckPathUnsigned(t *testing.T) {
	unsigned := filepath.Join(t.TempDir(), "unsigned.sh")
	require.NoError(t, os.WriteFile(unsigned, []byte("#!/bin/sh\n"), 0o755))
	assert.ErrorIs(t, CheckPath(unsigned, "anchor apple"), ErrNotSigned)
}

func TestCheckRunningSelf(t *testing.T) {
	if !selfSigned(t) {
		t.Skip("test binary is unsigned (Intel build without linker signature)")
	}
	info, err := InfoForPID(os.Getpid())
	require.NoError(t, err)
	tok, err := taskAuditToken()
	require.NoError(t, err)

	own := `identifier "` + info.Identifier + `"`
	require.NoError(t, CheckPID(os.Getpid(), own))
	require.NoError(t, CheckAuditToken(tok, own))
	require.NoError(t, CheckAuditToken(tok, ""))

	assert.ErrorIs(t, CheckPID(os.Getpid(), "anchor apple"), ErrRequirementNotMet)
	assert.ErrorIs(t, CheckAuditToken(tok, "anchor apple"), ErrRequirementNotMet)
	assert.ErrorIs(t, CheckAuditToken(tok, "anchor apple and ("), ErrInvalidRequirement)
}

func TestCheckAuditTokenStale(t *testing.T) {
	tok, err := taskAuditToken()
	require.NoError(t, err)
	tok[7]++ // another pid version: the process this token named is gone
	err = CheckAuditToken(tok, "")
	require.Error(t, err)
	assert.False(t, strings.Contains(err.Error(), "OSStatus 0"), err.Error())
}

func TestXPCMessageNil(t *testing.T) {
	_, err := infoForXPCMessage(nil)
	assert.Error(t, err)
	assert.Error(t, checkXPCMessage(nil, "anchor apple"))
}

// The cost of a check decides whether a server can afford one per message
// (CheckMessageSender) or should check once per connection.

func BenchmarkInfoForPath(b *testing.B) {
	for b.Loop() {
		if _, err := InfoForPath("/bin/ls"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckPath(b *testing.B) {
	for b.Loop() {
		if err := CheckPath("/bin/ls", "anchor apple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckAuditToken(b *testing.B) {
	tok, err := taskAuditToken()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		// The requirement fails for an ad-hoc test binary; the cost of
		// reaching that verdict is what is measured.
		if err := CheckAuditToken(tok, "anchor apple"); err != nil && !errors.Is(err, ErrRequirementNotMet) && !errors.Is(err, ErrNotSigned) {
			b.Fatal(err)
		}
	}
}
