package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var signedFixture = filepath.Join("..", "..", "testdata", "codesign", "hello-arm64-signed")

func runReq(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestCodesignCheck(t *testing.T) {
	out, err := runReq(t, "codesign", "check", signedFixture,
		`identifier "com.example.hello" and certificate leaf[subject.OU] = ABCDE12345 and certificate 1[field.1.2.840.113635.100.6.2.6] exists`)
	require.NoError(t, err, out)
	assert.Contains(t, out, "arm64: satisfied")

	out, err = runReq(t, "codesign", "check", signedFixture, `identifier "com.example.other"`)
	require.ErrorIs(t, err, errNotSatisfied)
	assert.Contains(t, out, `signing identifier is "com.example.hello"`)

	// The fixture's root is a test root, not Apple's.
	_, err = runReq(t, "codesign", "check", signedFixture, `anchor apple generic`)
	require.ErrorIs(t, err, errNotSatisfied)

	// Notarization is not in the file.
	_, err = runReq(t, "codesign", "check", signedFixture, `notarized`)
	require.ErrorIs(t, err, errUndecided)

	_, err = runReq(t, "codesign", "check", signedFixture, `identifier "x" and (`)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "syntax error")
}

func TestCodesignCompileDecompile(t *testing.T) {
	text := `identifier "com.example.hello" and anchor apple generic`
	hexOut, err := runReq(t, "codesign", "compile", text)
	require.NoError(t, err)
	hexOut = strings.TrimSpace(hexOut)
	require.True(t, strings.HasPrefix(hexOut, "fade0c00"), hexOut)

	back, err := runReq(t, "codesign", "decompile", "-hex", hexOut)
	require.NoError(t, err)
	assert.Equal(t, text+"\n", back)

	file := filepath.Join(t.TempDir(), "set.bin")
	_, err = runReq(t, "codesign", "compile", "-set", "-o", file, `designated => identifier "a"`)
	require.NoError(t, err)
	back, err = runReq(t, "codesign", "decompile", file)
	require.NoError(t, err)
	assert.Equal(t, "designated => identifier a\n", back)

	_, err = runReq(t, "codesign", "decompile", "-hex", "fade0c00000000")
	require.Error(t, err)
	_, err = runReq(t, "codesign", "compile")
	require.ErrorIs(t, err, errUsage)
}

func TestCodesignCheckTamperedIsNotSatisfied(t *testing.T) {
	// The tampered fixture carries the signed fixture's signature over
	// changed code. Its requirement clauses would all hold, but the
	// signature does not verify, so the requirement is not satisfied (as
	// with codesign -v -R).
	tampered := filepath.Join("..", "..", "testdata", "codesign", "hello-arm64-tampered")
	out, err := runReq(t, "codesign", "check", tampered, `identifier "com.example.hello"`)
	require.ErrorIs(t, err, errNotSatisfied, out)
	assert.Contains(t, out, "signature does not verify")
	assert.NotContains(t, out, "arm64: satisfied")
}
