package main

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"howett.net/plist"

	"github.com/goxpc/goxpc/codesign"
)

func init() {
	// codesignSubs is assigned here, not in its declaration, because the
	// subcommands read it for their usage text.
	codesignSubs = map[string]codesignSub{
		"info": {
			args:    "FILE",
			summary: "print the signature like codesign -dv --verbose=4, with entitlements",
			run:     codesignInfo,
		},
		"verify": {
			args:    "FILE",
			summary: "check every page and special-slot hash and the CMS signature; exit 0 only if all hold",
			run:     codesignVerify,
		},
		"check":     subCheck,
		"compile":   subCompile,
		"decompile": subDecompile,
	}
	register(command{
		name:    "codesign",
		summary: "show, verify or check a Mach-O code signature; compile requirements (pure Go, any OS)",
		run:     cmdCodesign,
	})
}

// codesignSub is one "xpcecho codesign" subcommand.
type codesignSub struct {
	args    string // argument synopsis for usage
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// codesignSubs lists the "xpcecho codesign" subcommands; it is filled in
// init above, the one place to add one (check, compile, decompile): one
// entry each.
var codesignSubs map[string]codesignSub

func cmdCodesign(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := func(w io.Writer) {
		fmt.Fprintln(w, "usage: xpcecho codesign <subcommand> [flags] FILE")
		fmt.Fprintln(w, "\nReads Mach-O code signatures without Security.framework, so it works on Linux CI too.")
		fmt.Fprintln(w, "\nsubcommands:")
		names := make([]string, 0, len(codesignSubs))
		for n := range codesignSubs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(w, "  %-10s %s\n", n, codesignSubs[n].summary)
		}
	}
	if len(args) == 0 {
		usage(stderr)
		return errUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return nil
	}
	sub, ok := codesignSubs[args[0]]
	if !ok {
		usage(stderr)
		return fmt.Errorf("codesign: unknown subcommand %q: %w", args[0], errUsage)
	}
	return sub.run(ctx, args[1:], stdout, stderr)
}

// codesignFlagSet is newFlagSet for a codesign subcommand.
func codesignFlagSet(name string, w io.Writer) *flag.FlagSet {
	sub := codesignSubs[name]
	return newFlagSet("codesign "+name, sub.args, sub.summary, w)
}

// oneFile parses flags and returns the single FILE argument.
func oneFile(fs *flag.FlagSet, args []string) (string, error) {
	if err := parseFlags(fs, args); err != nil {
		return "", err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return "", fmt.Errorf("%s: want exactly one FILE: %w", fs.Name(), errUsage)
	}
	return fs.Arg(0), nil
}

func codesignInfo(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := codesignFlagSet("info", stderr)
	arch := fs.String("arch", "", "show only this architecture of a universal file (e.g. arm64, x86_64)")
	path, err := oneFile(fs, args)
	if err != nil {
		return err
	}
	f, err := codesign.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	shown := 0
	for _, s := range f.Signatures {
		if *arch != "" && s.Arch != *arch {
			continue
		}
		if shown > 0 {
			fmt.Fprintln(stdout)
		}
		shown++
		writeSignatureInfo(stdout, abs, f.Format(), s)
	}
	if shown == 0 {
		return fmt.Errorf("codesign info: %s has no architecture %q (it is %s)", path, *arch, f.Format())
	}
	return nil
}

// writeSignatureInfo prints one architecture in codesign -dv's key=value style.
func writeSignatureInfo(w io.Writer, path, format string, s *codesign.Signature) {
	cd := s.CodeDirectory()
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p("Executable=%s", path)
	p("Architecture=%s", s.Arch)
	p("Identifier=%s", cd.Identifier)
	p("Format=%s", format)
	p("CodeDirectory v=%x size=%d flags=%s hashes=%d+%d location=embedded",
		cd.Version, len(cd.Raw), codesign.FlagString(cd.Flags), cd.NCodeSlots, cd.NSpecialSlots)
	if cd.Platform != 0 {
		p("Platform identifier=%d", cd.Platform)
	}
	p("Hash type=%s size=%d", cd.HashType, cd.HashType.Size())
	var choices []string
	for _, c := range s.CodeDirectories {
		p("CandidateCDHash %s=%x", c.HashType, c.CDHash())
		p("CandidateCDHashFull %s=%x", c.HashType, c.Hash())
		choices = append(choices, c.HashType.String())
	}
	p("Hash choices=%s", strings.Join(choices, ","))
	if cd.Version >= 0x20400 {
		p("Executable Segment base=%d", cd.ExecSegBase)
		p("Executable Segment limit=%d", cd.ExecSegLimit)
		p("Executable Segment flags=%#x", uint64(cd.ExecSegFlags))
	}
	if cd.Version >= 0x20500 && cd.Runtime != 0 {
		p("Runtime Version=%d.%d.%d", cd.Runtime>>16, (cd.Runtime>>8)&0xff, cd.Runtime&0xff)
	}
	p("Page size=%d", cd.PageSize)
	p("CDHash=%x", cd.CDHash())
	if s.Adhoc() {
		p("Signature=adhoc")
	} else {
		p("Signature size=%d", len(s.CMS))
		for _, c := range s.Certificates {
			name := c.Subject.CommonName
			if name == "" {
				name = c.Subject.String()
			}
			p("Authority=%s", name)
		}
		for _, c := range s.Certificates {
			p("Certificate subject=%s", c.Subject.String())
		}
		if !s.SigningTime.IsZero() {
			p("Signed Time=%s", s.SigningTime.UTC().Format(time.RFC3339))
		}
		if !s.Timestamp.IsZero() {
			p("Timestamp=%s", s.Timestamp.UTC().Format(time.RFC3339))
		} else {
			p("Timestamp=none")
		}
	}
	if h := cd.SpecialSlotHash(codesign.SlotInfoPlist); h != nil && !allZero(h) {
		p("Info.plist=bound (hash %s)", hex.EncodeToString(h))
	} else {
		p("Info.plist=not bound")
	}
	if cd.TeamID != "" {
		p("TeamIdentifier=%s", cd.TeamID)
	} else {
		p("TeamIdentifier=not set")
	}
	if h := cd.SpecialSlotHash(codesign.SlotResourceDir); h != nil && !allZero(h) {
		p("Sealed Resources=bound (hash %s)", hex.EncodeToString(h))
	} else {
		p("Sealed Resources=none")
	}
	if len(s.Requirements) >= 12 {
		count := uint32(s.Requirements[8])<<24 | uint32(s.Requirements[9])<<16 | uint32(s.Requirements[10])<<8 | uint32(s.Requirements[11])
		p("Internal requirements count=%d size=%d", count, len(s.Requirements))
	} else {
		p("Internal requirements=none")
	}
	if dr := s.Info().DesignatedRequirement; dr != "" {
		p("Designated requirement=%s", dr)
	}
	writeEntitlements(w, s)
}

func writeEntitlements(w io.Writer, s *codesign.Signature) {
	ent, err := s.DecodeEntitlements()
	switch {
	case err != nil:
		fmt.Fprintf(w, "Entitlements=unreadable (%v)\n", err)
		return
	case ent == nil:
		fmt.Fprintln(w, "Entitlements=none")
		return
	}
	text := s.Entitlements
	if len(text) == 0 { // DER only: show it as XML
		if text, err = plist.MarshalIndent(ent, plist.XMLFormat, "\t"); err != nil {
			fmt.Fprintf(w, "Entitlements=unprintable (%v)\n", err)
			return
		}
	}
	fmt.Fprintln(w, "Entitlements:")
	for _, line := range strings.Split(strings.TrimRight(string(text), "\n\x00"), "\n") {
		fmt.Fprintf(w, "\t%s\n", line)
	}
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func codesignVerify(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := codesignFlagSet("verify", stderr)
	rootsFile := fs.String("roots", "", "PEM `file` of trusted roots: also require the signer chain to lead to one (default: chain reported, not trusted)")
	infoPlist := fs.String("info-plist", "", "bundle's Info.plist `file` to check against special slot 1")
	resources := fs.String("code-resources", "", "bundle's _CodeSignature/CodeResources `file` to check against special slot 3")
	path, err := oneFile(fs, args)
	if err != nil {
		return err
	}
	var opts codesign.VerifyOptions
	if *rootsFile != "" {
		if opts.Roots, err = loadRoots(*rootsFile); err != nil {
			return err
		}
	}
	if *infoPlist != "" {
		if opts.InfoPlist, err = os.ReadFile(*infoPlist); err != nil {
			return err
		}
	}
	if *resources != "" {
		if opts.CodeResources, err = os.ReadFile(*resources); err != nil {
			return err
		}
	}
	f, err := codesign.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.VerifyWith(opts); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var parts []string
	for _, s := range f.Signatures {
		how := "ad hoc"
		if !s.Adhoc() {
			how = "CMS"
			if len(s.Certificates) > 0 {
				how += " by " + s.Certificates[0].Subject.CommonName
			}
			if opts.Roots == nil {
				how += ", chain not trusted"
			} else {
				how += ", chain to a given root"
			}
		}
		parts = append(parts, fmt.Sprintf("%s cdhash %x (%s)", s.Arch, s.CodeDirectory().CDHash(), how))
	}
	fmt.Fprintf(stdout, "%s: valid on disk: %s\n", path, strings.Join(parts, "; "))
	return nil
}

func loadRoots(name string) (*x509.CertPool, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	n := 0
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return nil, errors.New(name + ": no PEM certificates")
	}
	return pool, nil
}
