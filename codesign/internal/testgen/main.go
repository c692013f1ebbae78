// Command testgen regenerates testdata/codesign: small darwin Mach-O
// binaries signed by tools this project did not write, so the pure-Go
// signature reader in package codesign is tested against other people's
// output rather than its own.
//
//   - the Go linker signs darwin/arm64 binaries ad hoc (flags adhoc|linker-signed);
//   - github.com/anchore/quill (pinned in go.mod) signs ad hoc and with CMS,
//     using a throwaway root → intermediate → leaf chain made here with
//     crypto/x509 that mimics Apple's Developer ID layout;
//   - github.com/anchore/go-macholibre (quill's dependency) packs a universal file;
//   - github.com/blacktop/go-macho (also quill's) reads every result back and
//     records identifiers and cdhashes in facts.json, an independent
//     reading the tests compare with.
//
// It is its own module so quill's dependency tree stays out of goxpc's go.mod.
// Run it from the repository root:
//
//	(cd codesign/internal/testgen && go run . -out ../../../testdata/codesign)
//
// or `go generate ./codesign/` (see generate.go in package codesign).
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	macholibre "github.com/anchore/go-macholibre"
	"github.com/anchore/quill/quill"
	bmacho "github.com/blacktop/go-macho"
)

// Identity and team of the CMS-signed test binary.
const (
	signedIdentifier = "com.example.hello"
	teamID           = "ABCDE12345"
	// tamperPage is the code page whose byte the tampered copy flips.
	tamperPage = 2
)

// Apple's certificate extension markers (Apple PKI, "Developer ID" CPS):
// 1.2.840.113635.100.6.2.6 on the Developer ID intermediate CA and
// 1.2.840.113635.100.6.1.13 on a Developer ID Application leaf.
var (
	oidDevIDCA   = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 2, 6}
	oidDevIDLeaf = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 13}
	asn1Null     = []byte{0x05, 0x00}
)

const helloSource = "package main\n\nfunc main() {}\n"

const entitlementsXML = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>com.apple.security.app-sandbox</key>
	<true/>
	<key>com.apple.security.application-groups</key>
	<array>
		<string>ABCDE12345.com.example.group</string>
	</array>
</dict>
</plist>
`

func main() {
	out := flag.String("out", "../../../testdata/codesign", "output directory")
	flag.Parse()
	if err := generate(*out); err != nil {
		log.Fatal(err)
	}
}

func generate(out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "goxpc-testgen-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	// 1. Build the tiny program for both architectures with the Go linker.
	src := filepath.Join(work, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(helloSource), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(src, "go.mod"), []byte("module hello\n\ngo 1.24\n"), 0o644); err != nil {
		return err
	}
	build := func(arch, dst string) error {
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w -buildid=", "-o", dst, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=darwin", "GOARCH="+arch, "GOFLAGS=-buildvcs=false")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	// The Go linker uses the output's base name as the identifier: "hello".
	linkerArm64 := filepath.Join(work, "arm64", "hello")
	if err := build("arm64", linkerArm64); err != nil {
		return fmt.Errorf("go build arm64: %w", err)
	}
	amd64 := filepath.Join(work, "amd64", "hello")
	if err := build("amd64", amd64); err != nil { // not signed by the linker
		return fmt.Errorf("go build amd64: %w", err)
	}

	// 2. The throwaway Developer ID–style chain.
	chainPEM, keyPEM, rootPEM, err := makeChain()
	if err != nil {
		return err
	}
	chainFile := filepath.Join(work, "chain.pem")
	keyFile := filepath.Join(work, "key.pem")
	entFile := filepath.Join(work, "ent.plist")
	for name, data := range map[string][]byte{chainFile: chainPEM, keyFile: keyPEM, entFile: []byte(entitlementsXML)} {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			return err
		}
	}

	// 3. quill: CMS-sign a copy of the arm64 binary (replacing the linker's
	// ad-hoc signature), and ad-hoc sign the amd64 one.
	signedArm64 := filepath.Join(work, "hello-signed")
	if err := copyFile(linkerArm64, signedArm64); err != nil {
		return err
	}
	cfg, err := quill.NewSigningConfigFromPEMs(signedArm64, chainFile, keyFile, "", true)
	if err != nil {
		return fmt.Errorf("quill config: %w", err)
	}
	cfg.WithIdentity(signedIdentifier).WithEntitlements(entFile)
	if err := quill.Sign(*cfg); err != nil {
		return fmt.Errorf("quill sign: %w", err)
	}
	adhocCfg, err := quill.NewSigningConfigFromPEMs(amd64, "", "", "", false)
	if err != nil {
		return err
	}
	adhocCfg.WithIdentity(signedIdentifier)
	if err := quill.Sign(*adhocCfg); err != nil {
		return fmt.Errorf("quill ad-hoc sign: %w", err)
	}

	// 4. Outputs.
	files := map[string]string{
		"hello-arm64-linker": linkerArm64,
		"hello-arm64-signed": signedArm64,
	}
	for name, from := range files {
		if err := copyFile(from, filepath.Join(out, name)); err != nil {
			return err
		}
	}
	// Universal: x86_64 (quill ad hoc) + arm64 (Go linker), packed by go-macholibre.
	if err := macholibre.Package(filepath.Join(out, "hello-universal"), amd64, linkerArm64); err != nil {
		return fmt.Errorf("macholibre package: %w", err)
	}
	// Tampered: one byte flipped in a code page of the CMS-signed binary.
	data, err := os.ReadFile(signedArm64)
	if err != nil {
		return err
	}
	tamperOffset := tamperPage*4096 + 0x123
	data[tamperOffset] ^= 0xff
	if err := os.WriteFile(filepath.Join(out, "hello-arm64-tampered"), data, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "root.pem"), rootPEM, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "entitlements.plist"), []byte(entitlementsXML), 0o644); err != nil {
		return err
	}

	// 5. facts.json: what an independent reader (blacktop/go-macho) sees.
	facts := map[string]any{
		"generator":     "codesign/internal/testgen",
		"tamper_page":   tamperPage,
		"tamper_offset": tamperOffset,
		"team_id":       teamID,
		"files":         map[string]any{},
	}
	for _, name := range []string{"hello-arm64-linker", "hello-arm64-signed", "hello-arm64-tampered", "hello-universal"} {
		f, err := describe(filepath.Join(out, name))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		facts["files"].(map[string]any)[name] = f
	}
	js, err := json.MarshalIndent(facts, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "facts.json"), append(js, '\n'), 0o644)
}

// archFacts is what blacktop/go-macho reports for one architecture.
type archFacts struct {
	CPU         string   `json:"cpu"`
	Identifier  string   `json:"identifier"`
	TeamID      string   `json:"team_id,omitempty"`
	Flags       uint32   `json:"flags"`
	Version     uint32   `json:"version"`
	CDHashes    []string `json:"cdhashes"` // full hash of each CodeDirectory
	CodeLimit   uint64   `json:"code_limit"`
	NCodeSlots  uint32   `json:"n_code_slots"`
	HasCMS      bool     `json:"has_cms"`
	Requirement string   `json:"requirement,omitempty"`
}

func describe(path string) ([]archFacts, error) {
	var machos []*bmacho.File
	if ff, err := bmacho.OpenFat(path); err == nil {
		defer ff.Close()
		for _, a := range ff.Arches {
			machos = append(machos, a.File)
		}
	} else {
		f, err := bmacho.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		machos = append(machos, f)
	}
	var res []archFacts
	for _, m := range machos {
		cs := m.CodeSignature()
		if cs == nil || len(cs.CodeDirectories) == 0 {
			return nil, fmt.Errorf("no code signature")
		}
		cd := cs.CodeDirectories[0]
		a := archFacts{
			CPU:        m.CPU.String(),
			Identifier: cd.ID,
			TeamID:     cd.TeamID,
			Flags:      uint32(cd.Header.Flags),
			Version:    uint32(cd.Header.Version),
			CodeLimit:  cd.CodeLimit,
			NCodeSlots: cd.Header.NCodeSlots,
			HasCMS:     len(cs.CMSSignature) > 0,
		}
		for _, c := range cs.CodeDirectories {
			a.CDHashes = append(a.CDHashes, c.CDHash)
		}
		if len(cs.Requirements) > 0 {
			a.Requirement = cs.Requirements[0].Detail
		}
		res = append(res, a)
	}
	return res, nil
}

func makeChain() (chainPEM, keyPEM, rootPEM []byte, err error) {
	notBefore := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter := time.Date(2044, 1, 1, 0, 0, 0, 0, time.UTC)

	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	root := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "goxpc Test Root CA", Organization: []string{"goxpc test"}, Country: []string{"US"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	rootDER, err := x509.CreateCertificate(rand.Reader, root, root, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, nil, nil, err
	}
	root, _ = x509.ParseCertificate(rootDER)

	intKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	inter := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject: pkix.Name{CommonName: "goxpc Test Developer ID Certification Authority",
			OrganizationalUnit: []string{"goxpc Test Certification Authority"}, Organization: []string{"goxpc test"}, Country: []string{"US"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		ExtraExtensions:       []pkix.Extension{{Id: oidDevIDCA, Value: asn1Null}},
	}
	intDER, err := x509.CreateCertificate(rand.Reader, inter, root, &intKey.PublicKey, rootKey)
	if err != nil {
		return nil, nil, nil, err
	}
	inter, _ = x509.ParseCertificate(intDER)

	// The leaf is RSA like Apple's Developer ID Application certificates.
	leafKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, nil, err
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject: pkix.Name{CommonName: "Developer ID Application: Example Corp (" + teamID + ")",
			OrganizationalUnit: []string{teamID}, Organization: []string{"Example Corp"}, Country: []string{"US"}},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
		ExtraExtensions:       []pkix.Extension{{Id: oidDevIDLeaf, Critical: true, Value: asn1Null}},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, inter, &leafKey.PublicKey, intKey)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, der := range [][]byte{leafDER, intDER, rootDER} {
		chainPEM = append(chainPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		return nil, nil, nil, err
	}
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	rootPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rootDER})
	return chainPEM, keyPEM, rootPEM, nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o755)
}
