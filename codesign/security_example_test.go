package codesign_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/goxpc/goxpc/codesign"
	"github.com/goxpc/goxpc/xpc"
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

// Authorize each request by the code signature of its sender: here only
// the team's own apps may call "reset". The sender is found by the
// message's audit token, not by a reusable pid.
func ExampleCheckMessageSender() {
	const ourApps = `anchor apple generic and certificate leaf[subject.OU] = "ABCDE12345"`
	handler := xpc.HandlerFunc(func(ctx context.Context, m *xpc.Message) (xpc.Dict, error) {
		if m.Body["method"] == "reset" {
			if err := codesign.CheckMessageSender(m, ourApps); err != nil {
				if who, ierr := codesign.MessageSender(m); ierr == nil {
					log.Printf("refusing reset from %s (team %q): %v", who.Identifier, who.TeamID, err)
				}
				return nil, errors.New("not allowed")
			}
		}
		return xpc.Dict{"ok": true}, nil
	})
	_ = handler // pass to xpc.Listen
}
