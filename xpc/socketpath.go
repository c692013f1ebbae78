package xpc

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
)

// SocketPath returns the Unix socket path that the portable backend (every
// system but darwin) uses for the service name. dir overrides the
// directory; if empty, $GOXPC_SOCKET_DIR is used, else the system directory
// (/run/goxpc, or %ProgramData%\goxpc on Windows) when privileged, else a
// per-user directory: $XDG_RUNTIME_DIR/goxpc, or goxpc-<uid> under the
// temporary directory.
func SocketPath(name string, privileged bool, dir string) (string, error) {
	if why := validServiceName(name); why != "" {
		return "", &Error{Kind: ErrInvalid, Service: name, Description: why}
	}
	if dir == "" {
		dir = defaultSocketDir(privileged)
	}
	return filepath.Join(dir, name+".sock"), nil
}

func defaultSocketDir(privileged bool) string {
	if d := socketDirFromEnv(); d != "" {
		return d
	}
	if runtime.GOOS == "windows" {
		if privileged {
			if pd := os.Getenv("ProgramData"); pd != "" {
				return filepath.Join(pd, "goxpc")
			}
		}
		if la := os.Getenv("LOCALAPPDATA"); la != "" {
			return filepath.Join(la, "goxpc")
		}
		return filepath.Join(os.TempDir(), "goxpc")
	}
	if privileged {
		return "/run/goxpc"
	}
	if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" {
		return filepath.Join(xdg, "goxpc")
	}
	return filepath.Join(os.TempDir(), "goxpc-"+strconv.Itoa(os.Geteuid()))
}

// ensureSocketDir creates dir if needed (0700 per user, 0755 system-wide)
// and refuses one that another user could have planted or could write to
// (and so replace our socket): it must belong to us or root and must not be
// writable by group or others. Who may connect is PeerCheck's business.
func ensureSocketDir(dir string, privileged bool) error {
	perm := os.FileMode(0o700)
	if privileged {
		perm = 0o755
	}
	if err := os.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("xpc: create socket directory: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("xpc: socket directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("xpc: socket directory %s is not a directory", dir)
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	if owner, ok := fileOwner(fi); ok && owner != os.Geteuid() && owner != 0 {
		return fmt.Errorf("xpc: socket directory %s belongs to uid %d, not to us (uid %d); remove it or set %s", dir, owner, os.Geteuid(), envSocketDir)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("xpc: socket directory %s is writable by others (mode %v); chmod go-w it or set %s", dir, fi.Mode().Perm(), envSocketDir)
	}
	return nil
}
