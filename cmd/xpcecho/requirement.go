package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/goxpc/goxpc/codesign"
	"github.com/goxpc/goxpc/codesign/requirement"
)

// The requirement subcommands of "xpcecho codesign": evaluate requirement
// text against a binary, and convert requirements between Apple's text and
// binary forms, all in pure Go.

var (
	subCheck = codesignSub{
		args:    "FILE REQUIREMENT",
		summary: "verify FILE's signature and evaluate requirement text against it: satisfied, not satisfied, or undecidable from the file",
		run:     codesignCheck,
	}
	subCompile = codesignSub{
		args:    "REQUIREMENT",
		summary: "compile requirement text (or a set with -set) to Apple's binary form, as hex or to -o FILE",
		run:     codesignCompile,
	}
	subDecompile = codesignSub{
		args:    "FILE | -hex HEX",
		summary: "print a binary requirement or requirement set in canonical text (what codesign -d -r- prints)",
		run:     codesignDecompile,
	}
)

// errNotSatisfied and errUndecided end "codesign check" with exit status 1.
var (
	errNotSatisfied = errors.New("requirement not satisfied")
	errUndecided    = errors.New("requirement cannot be decided from the file alone")
)

func codesignCheck(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := codesignFlagSet("check", stderr)
	arch := fs.String("arch", "", "check only this architecture of a universal file")
	infoPlist := fs.String("info-plist", "", "bundle's Info.plist `file`, for info[...] clauses")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		fs.Usage()
		return fmt.Errorf("codesign check: want FILE and REQUIREMENT: %w", errUsage)
	}
	path, text := fs.Arg(0), fs.Arg(1)
	req, err := requirement.Parse(text)
	if err != nil {
		return err
	}
	var opts codesign.EvaluateOptions
	if *infoPlist != "" {
		if opts.InfoPlist, err = os.ReadFile(*infoPlist); err != nil {
			return err
		}
	}
	f, err := codesign.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(stdout, "requirement: %s\n", req)
	worst := codesign.Satisfied
	checked := 0
	for _, s := range f.Signatures {
		if *arch != "" && s.Arch != *arch {
			continue
		}
		checked++
		// Evaluate reads the signature without checking it; a requirement
		// is only met by code whose signature is valid (codesign -v -R).
		if err := s.Verify(nil); err != nil {
			if errors.Is(err, codesign.ErrSignatureInvalid) || errors.Is(err, codesign.ErrMalformed) {
				fmt.Fprintf(stdout, "%s: %s: signature does not verify: %v\n", s.Arch, codesign.NotSatisfied, err)
				worst = codesign.NotSatisfied
			} else {
				fmt.Fprintf(stdout, "%s: %s: signature cannot be verified: %v\n", s.Arch, codesign.Undecided, err)
				if worst == codesign.Satisfied {
					worst = codesign.Undecided
				}
			}
			continue
		}
		ev, err := s.Evaluate(req, &opts)
		if err != nil {
			return fmt.Errorf("%s (%s): %w", path, s.Arch, err)
		}
		fmt.Fprintf(stdout, "%s: %s\n", s.Arch, ev)
		switch {
		case ev.Outcome == codesign.NotSatisfied:
			worst = codesign.NotSatisfied
		case ev.Outcome == codesign.Undecided && worst == codesign.Satisfied:
			worst = codesign.Undecided
		}
	}
	if checked == 0 {
		return fmt.Errorf("codesign check: %s has no architecture %q (it is %s)", path, *arch, f.Format())
	}
	switch worst {
	case codesign.NotSatisfied:
		return fmt.Errorf("%s: %w", path, errNotSatisfied)
	case codesign.Undecided:
		return fmt.Errorf("%s: %w (on macOS, Security.framework can: codesign.CheckPath)", path, errUndecided)
	}
	return nil
}

func codesignCompile(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := codesignFlagSet("compile", stderr)
	set := fs.Bool("set", false, "the text is a requirement set (designated => ..., host => ...)")
	out := fs.String("o", "", "write the binary to `file` instead of printing hex")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("codesign compile: want one REQUIREMENT argument (quote it): %w", errUsage)
	}
	var blob []byte
	var err error
	if *set {
		var s requirement.Set
		if s, err = requirement.ParseSet(fs.Arg(0)); err == nil {
			blob, err = s.MarshalBinary()
		}
	} else {
		var r *requirement.Requirement
		if r, err = requirement.Parse(fs.Arg(0)); err == nil {
			blob, err = r.MarshalBinary()
		}
	}
	if err != nil {
		return err
	}
	if *out != "" {
		return os.WriteFile(*out, blob, 0o644)
	}
	fmt.Fprintln(stdout, hex.EncodeToString(blob))
	return nil
}

func codesignDecompile(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := codesignFlagSet("decompile", stderr)
	hexIn := fs.String("hex", "", "the blob as `hex` instead of a file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var blob []byte
	var err error
	switch {
	case *hexIn != "" && fs.NArg() == 0:
		blob, err = hex.DecodeString(strings.Join(strings.Fields(*hexIn), ""))
	case *hexIn == "" && fs.NArg() == 1:
		if fs.Arg(0) == "-" {
			blob, err = io.ReadAll(io.LimitReader(os.Stdin, requirement.MaxBlobSize+1))
		} else {
			blob, err = os.ReadFile(fs.Arg(0))
		}
	default:
		fs.Usage()
		return fmt.Errorf("codesign decompile: want FILE or -hex: %w", errUsage)
	}
	if err != nil {
		return err
	}
	if len(blob) >= 4 && binary.BigEndian.Uint32(blob) == requirement.MagicRequirementSet {
		var s requirement.Set
		if err := s.UnmarshalBinary(blob); err != nil {
			return err
		}
		fmt.Fprint(stdout, strings.TrimSuffix(s.String(), "\n")+"\n")
		return nil
	}
	r, err := requirement.Decompile(bytes.Clone(blob))
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, r)
	return nil
}
