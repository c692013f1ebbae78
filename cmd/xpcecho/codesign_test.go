package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goxpc/goxpc/codesign"
)

const csTestdata = "../../testdata/codesign"

func csRun(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	err = run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func TestCodesignInfoLinkerSigned(t *testing.T) {
	out, _, err := csRun(t, "codesign", "info", filepath.Join(csTestdata, "hello-arm64-linker"))
	require.NoError(t, err)
	for _, want := range []string{
		"Identifier=a.out\n",
		"Format=Mach-O thin (arm64)\n",
		"flags=0x20002(adhoc,linker-signed) hashes=282+0 location=embedded\n",
		"Hash type=sha256 size=32\n",
		"CDHash=832182bd97ff983cc0d383426d4653d157cb2e4f\n",
		"Signature=adhoc\n",
		"TeamIdentifier=not set\n",
		"Entitlements=none\n",
		"Page size=4096\n",
	} {
		assert.Contains(t, out, want)
	}
	abs, err := filepath.Abs(filepath.Join(csTestdata, "hello-arm64-linker"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, "Executable="+abs+"\n"), out)
}

func TestCodesignInfoSigned(t *testing.T) {
	path := filepath.Join(csTestdata, "hello-arm64-signed")
	out, _, err := csRun(t, "codesign", "info", path)
	require.NoError(t, err)
	f, err := codesign.Open(path)
	require.NoError(t, err)
	defer f.Close()
	s := f.Signatures[0]
	for _, want := range []string{
		"Identifier=com.example.hello\n",
		"flags=0x10000(runtime)",
		"Authority=Developer ID Application: Example Corp (ABCDE12345)\n",
		"Authority=goxpc Test Developer ID Certification Authority\n",
		"Authority=goxpc Test Root CA\n",
		"Certificate subject=CN=Developer ID Application: Example Corp (ABCDE12345),OU=ABCDE12345,O=Example Corp,C=US\n",
		"Signed Time=" + s.SigningTime.Format("2006-01-02T15:04:05Z") + "\n",
		"Runtime Version=12.1.0\n",
		"Timestamp=none\n",
		"<key>com.apple.security.app-sandbox</key>",
		"Internal requirements count=1",
	} {
		assert.Contains(t, out, want)
	}
	assert.Contains(t, out, "Signature size=")
	assert.NotContains(t, out, "Signature=adhoc")
}

func TestCodesignInfoUniversal(t *testing.T) {
	path := filepath.Join(csTestdata, "hello-universal")
	out, _, err := csRun(t, "codesign", "info", path)
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(out, "Format=Mach-O universal (x86_64 arm64)\n"))
	assert.Contains(t, out, "Architecture=x86_64\n")
	assert.Contains(t, out, "Architecture=arm64\n")

	out, _, err = csRun(t, "codesign", "info", "-arch", "x86_64", path)
	require.NoError(t, err)
	assert.NotContains(t, out, "Architecture=arm64")
	assert.Contains(t, out, "flags=0x2(adhoc)")

	_, _, err = csRun(t, "codesign", "info", "-arch", "ppc", path)
	require.ErrorContains(t, err, `no architecture "ppc"`)
}

func TestCodesignVerify(t *testing.T) {
	for _, name := range []string{"hello-arm64-linker", "hello-arm64-signed", "hello-universal"} {
		out, _, err := csRun(t, "codesign", "verify", filepath.Join(csTestdata, name))
		require.NoError(t, err, name)
		assert.Contains(t, out, "valid on disk", name)
	}
	out, _, err := csRun(t, "codesign", "verify", "-roots", filepath.Join(csTestdata, "root.pem"), filepath.Join(csTestdata, "hello-arm64-signed"))
	require.NoError(t, err)
	assert.Contains(t, out, "chain to a given root")
	assert.Equal(t, 1, strings.Count(out, "\n"), "one line")
}

func TestCodesignVerifyTampered(t *testing.T) {
	out, _, err := csRun(t, "codesign", "verify", filepath.Join(csTestdata, "hello-arm64-tampered"))
	require.Error(t, err)
	assert.Empty(t, out)
	assert.ErrorIs(t, err, codesign.ErrSignatureInvalid)
	assert.Contains(t, err.Error(), "code page 2")
	assert.NotContains(t, err.Error(), "\n", "one-line reason")
	assert.False(t, errors.Is(err, errUsage), "a bad signature exits 1, not 2")
}

func TestCodesignVerifyWrongRoot(t *testing.T) {
	dir := t.TempDir()
	signed := filepath.Join(csTestdata, "hello-arm64-signed")

	// A root the chain does not lead to.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Unrelated Root"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	other := filepath.Join(dir, "other.pem")
	require.NoError(t, os.WriteFile(other, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	_, _, err = csRun(t, "codesign", "verify", "-roots", other, signed)
	require.ErrorIs(t, err, codesign.ErrSignatureInvalid)
	assert.Contains(t, err.Error(), "root")

	empty := filepath.Join(dir, "empty.pem")
	require.NoError(t, os.WriteFile(empty, []byte("no pem here"), 0o600))
	_, _, err = csRun(t, "codesign", "verify", "-roots", empty, signed)
	require.ErrorContains(t, err, "no PEM certificates")

	// Ad-hoc code cannot satisfy a root.
	_, _, err = csRun(t, "codesign", "verify", "-roots", filepath.Join(csTestdata, "root.pem"), filepath.Join(csTestdata, "hello-arm64-linker"))
	require.ErrorIs(t, err, codesign.ErrSignatureInvalid)
	assert.Contains(t, err.Error(), "ad hoc")
}

func TestCodesignUsage(t *testing.T) {
	_, stderr, err := csRun(t, "codesign")
	require.ErrorIs(t, err, errUsage)
	assert.Contains(t, stderr, "verify")

	_, _, err = csRun(t, "codesign", "nope")
	require.ErrorIs(t, err, errUsage)

	_, _, err = csRun(t, "codesign", "info")
	require.ErrorIs(t, err, errUsage)

	_, _, err = csRun(t, "codesign", "verify", "a", "b")
	require.ErrorIs(t, err, errUsage)

	_, stderr, err = csRun(t, "codesign", "verify", "-h")
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, stderr, "-roots")

	out, _, err := csRun(t, "codesign", "help")
	require.NoError(t, err)
	assert.Contains(t, out, "info")

	_, _, err = csRun(t, "codesign", "info", filepath.Join(csTestdata, "root.pem"))
	require.ErrorIs(t, err, codesign.ErrUnsupportedFormat)
}
