package launchd

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// BundleInfo is the Info.plist of an XPC service bundle (.xpc, inside an
// app's Contents/XPCServices) or of a system extension that serves XPC.
// Only the keys such a bundle needs are fields; the rest round-trip in Extra.
type BundleInfo struct {
	// CFBundleIdentifier is the bundle ID; for an XPC service it is also
	// the service name clients connect to.
	CFBundleIdentifier string `plist:"CFBundleIdentifier"`
	// CFBundleName is the short bundle name.
	CFBundleName string `plist:"CFBundleName,omitempty"`
	// CFBundleDisplayName is the user-visible name.
	CFBundleDisplayName string `plist:"CFBundleDisplayName,omitempty"`
	// CFBundleExecutable is the file name of the executable in Contents/MacOS.
	CFBundleExecutable string `plist:"CFBundleExecutable"`
	// CFBundlePackageType is "XPC!" for an XPC service, "SYSX" for a
	// system extension.
	CFBundlePackageType string `plist:"CFBundlePackageType"`
	// CFBundleInfoDictionaryVersion is always "6.0".
	CFBundleInfoDictionaryVersion string `plist:"CFBundleInfoDictionaryVersion,omitempty"`
	// CFBundleVersion is the build version.
	CFBundleVersion string `plist:"CFBundleVersion,omitempty"`
	// CFBundleShortVersionString is the marketing version.
	CFBundleShortVersionString string `plist:"CFBundleShortVersionString,omitempty"`
	// LSMinimumSystemVersion is the oldest macOS the bundle runs on.
	LSMinimumSystemVersion string `plist:"LSMinimumSystemVersion,omitempty"`
	// XPCService configures an XPC service bundle; see xpcservice.plist(5).
	XPCService *XPCService `plist:"XPCService,omitempty"`
	// NSEndpointSecurityMachServiceName is the Mach service an Endpoint
	// Security system extension listens on; the app connects to it with
	// the privileged flag.
	NSEndpointSecurityMachServiceName string `plist:"NSEndpointSecurityMachServiceName,omitempty"`
	// NetworkExtension configures a network system extension; its
	// NEMachServiceName is the Mach service the extension listens on.
	NetworkExtension *NetworkExtension `plist:"NetworkExtension,omitempty"`

	// Extra holds the keys not modelled above; they round-trip unchanged.
	Extra map[string]any `plist:"-"`
}

type bundleInfoFields BundleInfo

// MarshalPlist implements plist.Marshaler.
func (b BundleInfo) MarshalPlist() (any, error) {
	return withExtra(bundleInfoFields(b), b.Extra), nil
}

// UnmarshalPlist implements plist.Unmarshaler; unknown keys go to Extra.
func (b *BundleInfo) UnmarshalPlist(unmarshal func(any) error) error {
	var f bundleInfoFields
	extra, err := decodeWithExtra(unmarshal, &f)
	if err != nil {
		return err
	}
	f.Extra = extra
	*b = BundleInfo(f)
	return nil
}

// XPCService is the XPCService dictionary of an XPC service's Info.plist.
type XPCService struct {
	// ServiceType is Application (default: one instance per app), User
	// or System.
	ServiceType XPCServiceType `plist:"ServiceType,omitempty"`
	// RunLoopType is dispatch_main (default, what xpc_main uses) or
	// NSRunLoop.
	RunLoopType string `plist:"RunLoopType,omitempty"`
	// JoinExistingSession runs the service in the calling app's security
	// session (keychain and window server access) instead of a new one.
	JoinExistingSession bool `plist:"JoinExistingSession,omitempty"`
	// EnvironmentVariables are set for the service process.
	EnvironmentVariables map[string]string `plist:"EnvironmentVariables,omitempty"`

	// Extra holds keys not modelled above (private ones such as
	// _MultipleInstances); they round-trip unchanged.
	Extra map[string]any `plist:"-"`
}

type xpcServiceFields XPCService

// MarshalPlist implements plist.Marshaler.
func (s XPCService) MarshalPlist() (any, error) {
	return withExtra(xpcServiceFields(s), s.Extra), nil
}

// UnmarshalPlist implements plist.Unmarshaler; unknown keys go to Extra.
func (s *XPCService) UnmarshalPlist(unmarshal func(any) error) error {
	var f xpcServiceFields
	extra, err := decodeWithExtra(unmarshal, &f)
	if err != nil {
		return err
	}
	f.Extra = extra
	*s = XPCService(f)
	return nil
}

// XPCServiceType says which launchd domain an XPC service runs in.
type XPCServiceType string

// The service types xpcservice.plist(5) documents.
const (
	// ServiceApplication services are private to the app that embeds
	// them: one instance per app (the default).
	ServiceApplication XPCServiceType = "Application"
	// ServiceUser services run once per user.
	ServiceUser XPCServiceType = "User"
	// ServiceSystem services run once per system.
	ServiceSystem XPCServiceType = "System"
)

// NetworkExtension is the NetworkExtension dictionary of a network system
// extension's Info.plist.
type NetworkExtension struct {
	// NEMachServiceName is the Mach service the extension listens on. It
	// must be prefixed with an app group the extension belongs to.
	NEMachServiceName string `plist:"NEMachServiceName,omitempty"`
	// NEProviderClasses maps provider kinds to the classes implementing
	// them.
	NEProviderClasses map[string]string `plist:"NEProviderClasses,omitempty"`
}

// NewXPCServiceInfo returns the Info.plist of an XPC service bundle with
// the CFBundle keys every bundle needs and an XPCService dictionary for an
// application-scoped service run by dispatch_main. Its identifier is the
// name clients pass to Dial.
func NewXPCServiceInfo(identifier, executable string) *BundleInfo {
	return &BundleInfo{
		CFBundleIdentifier:            identifier,
		CFBundleName:                  executable,
		CFBundleExecutable:            executable,
		CFBundlePackageType:           "XPC!",
		CFBundleInfoDictionaryVersion: "6.0",
		CFBundleVersion:               "1",
		CFBundleShortVersionString:    "1.0",
		XPCService: &XPCService{
			ServiceType: ServiceApplication,
			RunLoopType: "dispatch_main",
		},
	}
}

// ParseBundleInfo decodes an Info.plist, XML or binary.
func ParseBundleInfo(data []byte) (*BundleInfo, error) {
	var b BundleInfo
	if err := Unmarshal(data, &b); err != nil {
		return nil, err
	}
	return &b, nil
}

// Validate checks the keys a bundle serving XPC must get right. The error is
// a *[ValidationError] (its Label is the bundle identifier); warnings are
// settings that are probably mistakes.
func (b *BundleInfo) Validate() (warnings []string, err error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	warn := func(format string, args ...any) { warnings = append(warnings, fmt.Sprintf(format, args...)) }

	if b.CFBundleIdentifier == "" {
		bad("CFBundleIdentifier is empty")
	} else if strings.ContainsAny(b.CFBundleIdentifier, "/ \t\n") || !printable(b.CFBundleIdentifier) {
		bad("CFBundleIdentifier %q may contain only letters, digits, '.' and '-'", b.CFBundleIdentifier)
	}
	if b.CFBundleExecutable == "" {
		bad("CFBundleExecutable is empty")
	} else if strings.Contains(b.CFBundleExecutable, "/") || path.IsAbs(b.CFBundleExecutable) {
		bad("CFBundleExecutable %q must be a file name in Contents/MacOS", b.CFBundleExecutable)
	}
	if b.CFBundleInfoDictionaryVersion != "" && b.CFBundleInfoDictionaryVersion != "6.0" {
		warn("CFBundleInfoDictionaryVersion is %q, not 6.0", b.CFBundleInfoDictionaryVersion)
	}

	if s := b.XPCService; s != nil {
		if b.CFBundlePackageType != "XPC!" {
			bad("CFBundlePackageType is %q; an XPC service bundle needs \"XPC!\"", b.CFBundlePackageType)
		}
		switch s.ServiceType {
		case "", ServiceApplication, ServiceUser, ServiceSystem:
		default:
			bad("XPCService ServiceType %q is not Application, User or System", s.ServiceType)
		}
		switch s.RunLoopType {
		case "", "dispatch_main", "NSRunLoop":
		default:
			warn("XPCService RunLoopType %q is neither dispatch_main nor NSRunLoop", s.RunLoopType)
		}
		names := make([]string, 0, len(s.EnvironmentVariables))
		for k := range s.EnvironmentVariables {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if k == "" || strings.ContainsAny(k, "=\x00") {
				bad("XPCService EnvironmentVariables name %q is empty or contains '=' or NUL", k)
			}
		}
	}
	if n := b.NSEndpointSecurityMachServiceName; n != "" {
		if err := checkMachServiceName(n); err != nil {
			bad("NSEndpointSecurityMachServiceName: %v", err)
		}
	}
	if ne := b.NetworkExtension; ne != nil && ne.NEMachServiceName != "" {
		if err := checkMachServiceName(ne.NEMachServiceName); err != nil {
			bad("NEMachServiceName: %v", err)
		}
	}
	if b.XPCService == nil && b.NSEndpointSecurityMachServiceName == "" &&
		(b.NetworkExtension == nil || b.NetworkExtension.NEMachServiceName == "") {
		warn("no XPCService dictionary and no system extension Mach service name: the bundle offers no XPC service")
	}

	sort.Strings(problems)
	if len(problems) > 0 {
		return warnings, &ValidationError{Label: b.CFBundleIdentifier, Problems: problems}
	}
	return warnings, nil
}
