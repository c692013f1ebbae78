package codesign_test

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/goxpc/goxpc/codesign"
)

// Open a Mach-O file, read who signed it and check every hash, on any OS.
func ExampleOpen() {
	f, err := codesign.Open("../testdata/codesign/hello-arm64-signed")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	info := f.Info("")
	fmt.Println(info.Format)
	fmt.Println(info.Identifier, codesign.FlagString(info.Flags))
	fmt.Println("signed by", info.Certificates[0].CommonName, "team", info.Certificates[0].OrganizationalUnit)
	fmt.Println("verify:", f.Verify())
	// Output:
	// Mach-O thin (arm64)
	// com.example.hello 0x10000(runtime)
	// signed by Developer ID Application: Example Corp (ABCDE12345) team ABCDE12345
	// verify: <nil>
}

// A modified byte makes Verify name the page that no longer matches.
func ExampleFile_Verify() {
	f, err := codesign.Open("../testdata/codesign/hello-arm64-tampered")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	err = f.Verify()
	var hm *codesign.HashMismatchError
	if errors.As(err, &hm) {
		fmt.Println("arch", hm.Arch, "page", hm.Page, "invalid:", errors.Is(err, codesign.ErrSignatureInvalid))
	}
	// Output:
	// arch arm64 page 2 invalid: true
}

// The chain in a signature is only reported. To trust it, give Verify the
// roots you trust — here the test root that signed the testdata.
func ExampleFile_VerifyWith() {
	pemBytes, err := os.ReadFile("../testdata/codesign/root.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemBytes)

	f, err := codesign.Open("../testdata/codesign/hello-arm64-signed")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	fmt.Println("trusted root:", f.VerifyWith(codesign.VerifyOptions{Roots: roots}))
	err = f.VerifyWith(codesign.VerifyOptions{Roots: x509.NewCertPool()})
	fmt.Println("no root:", errors.Is(err, codesign.ErrSignatureInvalid))
	// Output:
	// trusted root: <nil>
	// no root: true
}
