package launchd

// SetChown replaces the chown used for daemon plists and returns a function
// that restores it; external tests use it to run without root.
func SetChown(f func(path string, uid, gid int) error) (restore func()) {
	old := chown
	chown = f
	return func() { chown = old }
}

// SetGeteuid replaces the effective uid Install sees and returns a function
// that restores it.
func SetGeteuid(f func() int) (restore func()) {
	old := geteuid
	geteuid = f
	return func() { geteuid = old }
}
