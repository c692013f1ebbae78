// Package launchd writes, reads and installs launchd jobs the current way:
// typed launchd.plist(5) structs encoded with howett.net/plist, and a
// launchctl wrapper that only uses the bootstrap/bootout family of
// subcommands (never the deprecated load/unload) and turns launchctl's exit
// codes into errors that say what to check.
//
// A Mach service exists only once launchd knows the job that advertises it,
// so an XPC server installed with this package is reachable by name:
//
//	job := &launchd.Job{
//		Label:            "com.example.echo",
//		ProgramArguments: []string{"/usr/local/bin/echo-server", "serve"},
//		MachServices:     map[string]launchd.MachService{"com.example.echo": {}},
//	}
//	lc := launchd.NewLaunchctl(nil) // the real launchctl (macOS only)
//	res, err := lc.Install(ctx, job, launchd.InstallOptions{Domain: launchd.GUI(os.Getuid())})
//
// The package does not import the xpc or codesign packages; it only knows
// plists and launchctl. Everything except running launchctl works on every
// platform, and tests substitute a fake [Runner].
package launchd
