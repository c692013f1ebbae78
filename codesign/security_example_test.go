package codesign_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/goxpc/goxpc/codesign"
)

// Describe a signed program on disk with Security.framework (macOS).
func ExampleInfoForPath() {
	info, err := codesign.InfoForPath("/bin/ls")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(info.Identifier, info.DesignatedRequirement)
}

// Check that a program on disk is Apple's and tell a failed requirement
// from a broken signature.
func ExampleCheckPath() {
	err := codesign.CheckPath("/bin/ls", `identifier "com.apple.ls" and anchor apple`)
	switch {
	case err == nil:
		fmt.Println("ok")
	case errors.Is(err, codesign.ErrRequirementNotMet):
		fmt.Println("signed, but not by whom we expect:", err)
	case errors.Is(err, codesign.ErrInvalidRequirement):
		log.Fatal("bug in the requirement text: ", err)
	default:
		fmt.Println("not validly signed:", err)
	}
}

// Authenticate a peer by its audit token, which unlike a pid cannot be
// reused by another process.
func ExampleCheckAuditToken() {
	var tok codesign.AuditToken // from the peer's connection or message
	const req = `anchor apple generic and certificate leaf[subject.OU] = "ABCDE12345"`
	if err := codesign.CheckAuditToken(tok, req); err != nil {
		log.Printf("rejecting peer pid %d: %v", tok.PID(), err)
	}
}
