package launchd_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/goxpc/goxpc/launchd"
	"github.com/goxpc/goxpc/launchd/launchdtest"
)

// A LaunchAgent that advertises one Mach service for an XPC listener.
func ExampleJob_Encode() {
	job := &launchd.Job{
		Label:            "com.example.echo",
		ProgramArguments: []string{"/usr/local/bin/echo-server", "serve"},
		MachServices:     map[string]launchd.MachService{"com.example.echo": {}},
		KeepAlive:        &launchd.KeepAlive{SuccessfulExit: launchd.Bool(false)},
	}
	if _, err := job.Validate(); err != nil {
		fmt.Println(err)
		return
	}
	data, err := job.Encode()
	if err != nil {
		fmt.Println(err)
		return
	}
	os.Stdout.Write(data)
	// Output:
	// <?xml version="1.0" encoding="UTF-8"?>
	// <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
	// <plist version="1.0">
	// 	<dict>
	// 		<key>KeepAlive</key>
	// 		<dict>
	// 			<key>SuccessfulExit</key>
	// 			<false/>
	// 		</dict>
	// 		<key>Label</key>
	// 		<string>com.example.echo</string>
	// 		<key>MachServices</key>
	// 		<dict>
	// 			<key>com.example.echo</key>
	// 			<true/>
	// 		</dict>
	// 		<key>ProgramArguments</key>
	// 		<array>
	// 			<string>/usr/local/bin/echo-server</string>
	// 			<string>serve</string>
	// 		</array>
	// 	</dict>
	// </plist>
}

// Validate catches what launchd would reject and warns about Mach service
// options that break XPC.
func ExampleJob_Validate() {
	job := &launchd.Job{
		Label:        "com.example.echo",
		Program:      "echo-server",
		MachServices: map[string]launchd.MachService{"com.example.echo": {HideUntilCheckIn: true}},
	}
	warnings, err := job.Validate()
	fmt.Println(err)
	for _, w := range warnings {
		fmt.Println("warning:", w)
	}
	// Output:
	// launchd: invalid job "com.example.echo": Program "echo-server" is not an absolute path
	// warning: MachServices "com.example.echo" sets HideUntilCheckIn, which does not work with XPC (XPC needs the name always present)
}

// Install writes the plist and bootstraps it. Here a fake launchctl stands
// in for /bin/launchctl; pass nil to NewLaunchctl to use the real one.
func ExampleLaunchctl_Install() {
	dir, err := os.MkdirTemp("", "agents")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)

	fake := launchdtest.New()
	lc := launchd.NewLaunchctl(fake)
	lc.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))

	job := &launchd.Job{
		Label:            "com.example.echo",
		ProgramArguments: []string{"/usr/local/bin/echo-server", "serve"},
		MachServices:     map[string]launchd.MachService{"com.example.echo": {}},
	}
	res, err := lc.Install(context.Background(), job, launchd.InstallOptions{Domain: launchd.GUI(501), Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("loaded in", res.Domain, "written:", res.Written)
	for _, argv := range fake.Calls() {
		fmt.Println("launchctl", argv[0], argv[1])
	}
	// Output:
	// loaded in gui/501 written: true
	// launchctl bootout gui/501/com.example.echo
	// launchctl enable gui/501/com.example.echo
	// launchctl bootstrap gui/501
}

// launchctl's exit codes become errors that say what to check.
func ExampleError() {
	fake := launchdtest.New()
	lc := launchd.NewLaunchctl(fake)
	_, err := lc.Print(context.Background(), launchd.GUI(501), "com.example.echo")
	fmt.Println(errors.Is(err, launchd.ErrNotLoaded))
	fmt.Println(err)
	// Output:
	// true
	// launchctl print gui/501/com.example.echo: exit 113: Could not find service "com.example.echo" in domain for port (the service is not loaded in gui/501; check `launchctl print gui/501/com.example.echo`; daemons live in the system domain (sudo), agents in gui/<uid>)
}

// The Info.plist of an XPC service bundle (Contents/XPCServices/*.xpc).
func ExampleNewXPCServiceInfo() {
	info := launchd.NewXPCServiceInfo("com.example.app.helper", "helper")
	info.XPCService.JoinExistingSession = true
	_, err := info.Validate()
	fmt.Println("valid:", err == nil)
	data, _ := launchd.Marshal(info)
	parsed, _ := launchd.ParseBundleInfo(data)
	fmt.Println(parsed.CFBundlePackageType, parsed.XPCService.ServiceType, parsed.XPCService.RunLoopType)
	// Output:
	// valid: true
	// XPC! Application dispatch_main
}
