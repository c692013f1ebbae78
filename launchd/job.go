package launchd

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Job is a launchd job: the contents of one launchd.plist(5) file. Field
// names are the plist keys. Keys this struct does not know are kept in
// Extra, so reading and writing a plist loses nothing.
//
// Encode it with [Marshal] (XML) or [MarshalBinary]; decode with
// [ParseJob] or [Unmarshal].
type Job struct {
	// Label uniquely names the job in its domain. By convention it is the
	// reverse-DNS name of the program, and the plist file is Label.plist.
	Label string `plist:"Label"`
	// Disabled keeps the job from loading unless launchctl enable overrides it.
	Disabled bool `plist:"Disabled,omitempty"`
	// Program is the absolute path of the executable. When empty, launchd
	// runs ProgramArguments[0].
	Program string `plist:"Program,omitempty"`
	// ProgramArguments is the argv of the job, argv[0] included.
	ProgramArguments []string `plist:"ProgramArguments,omitempty"`
	// BundleProgram is the executable's path relative to the app bundle that
	// carries the plist (SMAppService, macOS 13 and later).
	BundleProgram string `plist:"BundleProgram,omitempty"`
	// UserName is the user a daemon runs as; launchd ignores it for agents.
	UserName string `plist:"UserName,omitempty"`
	// GroupName is the group a daemon runs as; launchd ignores it for agents.
	GroupName string `plist:"GroupName,omitempty"`
	// WorkingDirectory is the directory the job starts in.
	WorkingDirectory string `plist:"WorkingDirectory,omitempty"`
	// EnvironmentVariables are added to the job's environment.
	EnvironmentVariables map[string]string `plist:"EnvironmentVariables,omitempty"`
	// MachServices are the Mach service names the job advertises; an XPC
	// listener can only check in for a name listed here.
	MachServices map[string]MachService `plist:"MachServices,omitempty"`
	// Sockets are launch-on-demand sockets, keyed by a name the job chooses.
	Sockets map[string]SocketGroup `plist:"Sockets,omitempty"`
	// RunAtLoad starts the job as soon as it is loaded, not only on demand.
	RunAtLoad bool `plist:"RunAtLoad,omitempty"`
	// KeepAlive asks launchd to restart the job, always or under conditions.
	// Nil leaves the key out: the job runs on demand only.
	KeepAlive *KeepAlive `plist:"KeepAlive,omitempty"`
	// ThrottleInterval is the minimum number of seconds between two spawns
	// of the job; 0 leaves launchd's default (10 seconds).
	ThrottleInterval int `plist:"ThrottleInterval,omitempty"`
	// StandardInPath is a file opened as the job's standard input.
	StandardInPath string `plist:"StandardInPath,omitempty"`
	// StandardOutPath is where the job's standard output goes; without it,
	// output is discarded.
	StandardOutPath string `plist:"StandardOutPath,omitempty"`
	// StandardErrorPath is where the job's standard error goes; without it,
	// output is discarded.
	StandardErrorPath string `plist:"StandardErrorPath,omitempty"`
	// ProcessType is the scheduling class: Background, Standard, Adaptive or
	// Interactive.
	ProcessType ProcessType `plist:"ProcessType,omitempty"`
	// AbandonProcessGroup keeps launchd from killing the job's process group
	// when the job exits.
	AbandonProcessGroup bool `plist:"AbandonProcessGroup,omitempty"`
	// LimitLoadToSessionType limits an agent to session types such as Aqua
	// or Background.
	LimitLoadToSessionType StringList `plist:"LimitLoadToSessionType,omitempty"`
	// AssociatedBundleIdentifiers names the app(s) shown with this job in
	// System Settings > Login Items (macOS 13 and later).
	AssociatedBundleIdentifiers StringList `plist:"AssociatedBundleIdentifiers,omitempty"`
	// SpawnConstraint is a launch constraint (a LightweightCodeRequirement
	// dictionary) the executable must satisfy before launchd spawns it
	// (macOS 13 and later).
	SpawnConstraint map[string]any `plist:"SpawnConstraint,omitempty"`

	// Extra holds keys this struct does not model, decoded as plain Go
	// values (string, bool, uint64 or int64, float64, []byte, time.Time,
	// []any, map[string]any). They are written back unchanged; a key that
	// names a field above is ignored on encode.
	Extra map[string]any `plist:"-"`
}

// jobFields is Job without its methods, so the plist package encodes and
// decodes its fields by reflection instead of calling back into Job.
type jobFields Job

// MarshalPlist implements plist.Marshaler: the modelled fields plus Extra.
func (j Job) MarshalPlist() (any, error) {
	return withExtra(jobFields(j), j.Extra), nil
}

// UnmarshalPlist implements plist.Unmarshaler; unknown keys go to Extra.
func (j *Job) UnmarshalPlist(unmarshal func(any) error) error {
	var f jobFields
	extra, err := decodeWithExtra(unmarshal, &f)
	if err != nil {
		return err
	}
	f.Extra = extra
	*j = Job(f)
	return nil
}

// MachService is the value of one MachServices entry. The zero value is
// written as <true/>, which is what an XPC service wants.
type MachService struct {
	// ResetAtClose makes clients see the port die when the job releases its
	// receive right. XPC handles this itself: do not set it for XPC.
	ResetAtClose bool `plist:"ResetAtClose,omitempty"`
	// HideUntilCheckIn makes lookups fail until the job checks in. XPC
	// relies on the name always being there: do not set it for XPC.
	HideUntilCheckIn bool `plist:"HideUntilCheckIn,omitempty"`
	// Off records a plist value of <false/>: launchd then does not
	// advertise the name. Kept so a round trip does not change meaning.
	Off bool `plist:"-"`
	// Extra holds dictionary keys not modelled above; they round-trip
	// unchanged.
	Extra map[string]any `plist:"-"`
}

type machServiceFields MachService

// MarshalPlist implements plist.Marshaler: true, false or a dictionary.
func (s MachService) MarshalPlist() (any, error) {
	switch {
	case s.ResetAtClose || s.HideUntilCheckIn || len(s.Extra) > 0:
		return withExtra(machServiceFields(s), s.Extra), nil
	case s.Off:
		return false, nil
	default:
		return true, nil
	}
}

// UnmarshalPlist implements plist.Unmarshaler for a boolean or a dictionary.
func (s *MachService) UnmarshalPlist(unmarshal func(any) error) error {
	var b bool
	if err := unmarshal(&b); err == nil {
		*s = MachService{Off: !b}
		return nil
	}
	var f machServiceFields
	extra, err := decodeWithExtra(unmarshal, &f)
	if err != nil {
		return fmt.Errorf("MachServices value must be a boolean or a dictionary: %w", err)
	}
	f.Extra = extra
	*s = MachService(f)
	return nil
}

// KeepAlive is the KeepAlive key: a plain boolean (Always) or, when any
// condition is set, a dictionary of conditions under which launchd
// restarts the job.
type KeepAlive struct {
	// Always restarts the job whenever it exits. Used only when no
	// condition below is set.
	Always bool `plist:"-"`
	// SuccessfulExit restarts the job after it exits with status 0 (true)
	// or with a non-zero status (false).
	SuccessfulExit *bool `plist:"SuccessfulExit,omitempty"`
	// Crashed restarts the job after it dies by a signal (true) or only
	// when it did not crash (false).
	Crashed *bool `plist:"Crashed,omitempty"`
	// PathState keeps the job alive while each path exists (true) or does
	// not exist (false).
	PathState map[string]bool `plist:"PathState,omitempty"`
	// OtherJobEnabled keeps the job alive while the job with that label is
	// enabled (true) or disabled (false).
	OtherJobEnabled map[string]bool `plist:"OtherJobEnabled,omitempty"`
	// AfterInitialDemand (undocumented, but common) applies KeepAlive
	// only after the job was first started on demand. Nil leaves it out.
	AfterInitialDemand *DemandCondition `plist:"AfterInitialDemand,omitempty"`

	// Extra holds conditions not modelled above (NetworkState, or keys a
	// later macOS adds); they round-trip unchanged and make the value a
	// dictionary.
	Extra map[string]any `plist:"-"`
}

type keepAliveFields KeepAlive

// Conditional reports whether k is written as a dictionary of conditions.
func (k KeepAlive) Conditional() bool {
	return k.SuccessfulExit != nil || k.Crashed != nil || len(k.PathState) > 0 ||
		len(k.OtherJobEnabled) > 0 || k.AfterInitialDemand != nil || len(k.Extra) > 0
}

// MarshalPlist implements plist.Marshaler: a boolean or a dictionary.
func (k KeepAlive) MarshalPlist() (any, error) {
	if k.Conditional() {
		return withExtra(keepAliveFields(k), k.Extra), nil
	}
	return k.Always, nil
}

// UnmarshalPlist implements plist.Unmarshaler for a boolean or a dictionary.
func (k *KeepAlive) UnmarshalPlist(unmarshal func(any) error) error {
	var b bool
	if err := unmarshal(&b); err == nil {
		*k = KeepAlive{Always: b}
		return nil
	}
	var f keepAliveFields
	extra, err := decodeWithExtra(unmarshal, &f)
	if err != nil {
		return fmt.Errorf("KeepAlive must be a boolean or a dictionary: %w", err)
	}
	f.Extra = extra
	*k = KeepAlive(f)
	return nil
}

// DemandCondition is the value of KeepAlive's AfterInitialDemand key: a
// boolean in the plists written today, or a dictionary of job labels in
// older ones.
type DemandCondition struct {
	// Value is the boolean form; it is ignored when Labels is set.
	Value bool
	// Labels is the dictionary form: job label to condition.
	Labels map[string]bool
}

// MarshalPlist implements plist.Marshaler: the dictionary when Labels is
// set, else the boolean.
func (c DemandCondition) MarshalPlist() (any, error) {
	if len(c.Labels) > 0 {
		return c.Labels, nil
	}
	return c.Value, nil
}

// UnmarshalPlist implements plist.Unmarshaler for a boolean or a dictionary.
func (c *DemandCondition) UnmarshalPlist(unmarshal func(any) error) error {
	var b bool
	if err := unmarshal(&b); err == nil {
		*c = DemandCondition{Value: b}
		return nil
	}
	var m map[string]bool
	if err := unmarshal(&m); err != nil {
		return fmt.Errorf("AfterInitialDemand must be a boolean or a dictionary: %w", err)
	}
	*c = DemandCondition{Labels: m}
	return nil
}

// Bool returns a pointer to b, for KeepAlive's optional conditions.
func Bool(b bool) *bool { return &b }

// StringList is a key that launchd accepts as a string or an array of
// strings. One element is written as a string, any other number as an array,
// so a one-element array in a file comes back as a string (which launchd
// reads the same way).
type StringList []string

// MarshalPlist implements plist.Marshaler.
func (l StringList) MarshalPlist() (any, error) {
	if len(l) == 1 {
		return l[0], nil
	}
	return []string(l), nil
}

// UnmarshalPlist implements plist.Unmarshaler for a string or an array.
func (l *StringList) UnmarshalPlist(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err == nil {
		*l = StringList{s}
		return nil
	}
	var a []string
	if err := unmarshal(&a); err != nil {
		return fmt.Errorf("want a string or an array of strings: %w", err)
	}
	*l = a
	return nil
}

// ProcessType is launchd's scheduling class for a job.
type ProcessType string

// The process types launchd.plist(5) documents.
const (
	// ProcessBackground jobs get the fewest resources.
	ProcessBackground ProcessType = "Background"
	// ProcessStandard is launchd's default.
	ProcessStandard ProcessType = "Standard"
	// ProcessAdaptive jobs move between Background and Interactive as XPC
	// activity demands.
	ProcessAdaptive ProcessType = "Adaptive"
	// ProcessInteractive jobs get the resources of a foreground app.
	ProcessInteractive ProcessType = "Interactive"
)

// Socket is one launch-on-demand socket of a job (the parameters launchd
// passes to getaddrinfo(3), or a Unix socket path).
type Socket struct {
	// SockType is stream (default), dgram or seqpacket.
	SockType string `plist:"SockType,omitempty"`
	// SockPassive is true (default) to listen and false to connect.
	SockPassive *bool `plist:"SockPassive,omitempty"`
	// SockNodeName is the host to listen on or connect to.
	SockNodeName string `plist:"SockNodeName,omitempty"`
	// SockServiceName is the service name or port number. launchd also
	// reads an integer port; it is decoded as its decimal string.
	SockServiceName ServiceName `plist:"SockServiceName,omitempty"`
	// SockFamily is IPv4, IPv6 or IPv4v6.
	SockFamily string `plist:"SockFamily,omitempty"`
	// SockProtocol is TCP or UDP.
	SockProtocol string `plist:"SockProtocol,omitempty"`
	// SockPathName makes a Unix domain socket at this path.
	SockPathName string `plist:"SockPathName,omitempty"`
	// SecureSocketWithKey makes a Unix socket in a secure directory and
	// exports its path in this environment variable.
	SecureSocketWithKey string `plist:"SecureSocketWithKey,omitempty"`
	// SockPathOwner is the uid owning the socket file.
	SockPathOwner *int `plist:"SockPathOwner,omitempty"`
	// SockPathGroup is the gid owning the socket file.
	SockPathGroup *int `plist:"SockPathGroup,omitempty"`
	// SockPathMode is the socket file's mode, in decimal (0666 is 438).
	SockPathMode int `plist:"SockPathMode,omitempty"`
	// Bonjour registers the socket with Bonjour: a boolean, a service name
	// or an array of names.
	Bonjour any `plist:"Bonjour,omitempty"`
	// MulticastGroup joins a multicast group (UDP).
	MulticastGroup string `plist:"MulticastGroup,omitempty"`

	// Extra holds keys not modelled above; they round-trip unchanged.
	Extra map[string]any `plist:"-"`
}

type socketFields Socket

// MarshalPlist implements plist.Marshaler: the modelled keys plus Extra.
func (s Socket) MarshalPlist() (any, error) {
	return withExtra(socketFields(s), s.Extra), nil
}

// UnmarshalPlist implements plist.Unmarshaler; unknown keys go to Extra.
func (s *Socket) UnmarshalPlist(unmarshal func(any) error) error {
	var f socketFields
	extra, err := decodeWithExtra(unmarshal, &f)
	if err != nil {
		return err
	}
	f.Extra = extra
	*s = Socket(f)
	return nil
}

// ServiceName is a socket's SockServiceName: a service name from
// /etc/services or a port number. A plist may hold it as a string or an
// integer (launchd accepts both); it is always written as a string.
type ServiceName string

// UnmarshalPlist implements plist.Unmarshaler for a string or an integer.
func (n *ServiceName) UnmarshalPlist(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err == nil {
		*n = ServiceName(s)
		return nil
	}
	var i int64
	if err := unmarshal(&i); err != nil {
		return fmt.Errorf("SockServiceName must be a string or an integer: %w", err)
	}
	*n = ServiceName(strconv.FormatInt(i, 10))
	return nil
}

// SocketGroup is the value of one Sockets entry: one socket dictionary or
// an array of them. One socket is written as a dictionary.
type SocketGroup []Socket

// MarshalPlist implements plist.Marshaler.
func (g SocketGroup) MarshalPlist() (any, error) {
	if len(g) == 1 {
		return g[0], nil
	}
	return []Socket(g), nil
}

// UnmarshalPlist implements plist.Unmarshaler for a dictionary or an array.
func (g *SocketGroup) UnmarshalPlist(unmarshal func(any) error) error {
	var s Socket
	if err := unmarshal(&s); err == nil {
		*g = SocketGroup{s}
		return nil
	}
	var a []Socket
	if err := unmarshal(&a); err != nil {
		return fmt.Errorf("Sockets value must be a dictionary or an array of dictionaries: %w", err)
	}
	*g = a
	return nil
}

// plistKeys returns the plist key names of a struct type's fields.
func plistKeys(t reflect.Type) map[string]struct{} {
	keys := make(map[string]struct{}, t.NumField())
	for i := range t.NumField() {
		if name, _, ok := plistTag(t.Field(i)); ok {
			keys[name] = struct{}{}
		}
	}
	return keys
}

// plistTag returns a field's plist key and omitempty flag; ok is false for
// fields the plist package skips.
func plistTag(f reflect.StructField) (name string, omitEmpty, ok bool) {
	if !f.IsExported() {
		return "", false, false
	}
	tag := f.Tag.Get("plist")
	if tag == "-" {
		return "", false, false
	}
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, opts == "omitempty", true
}

// withExtra returns the dictionary for struct value fields plus the extra
// keys that do not name one of its fields.
func withExtra(fields any, extra map[string]any) map[string]any {
	v := reflect.ValueOf(fields)
	m := fieldsToMap(v)
	known := plistKeys(v.Type())
	for k, x := range extra {
		if _, ok := known[k]; !ok {
			m[k] = x
		}
	}
	return m
}

// decodeWithExtra decodes a dictionary into the struct *f and returns the
// keys that name none of its fields (nil if there are none).
func decodeWithExtra[T any](unmarshal func(any) error, f *T) (map[string]any, error) {
	if err := unmarshal(f); err != nil {
		return nil, namedFieldError(reflect.TypeOf(f).Elem(), unmarshal, err)
	}
	var all map[string]any
	if err := unmarshal(&all); err != nil {
		return nil, err
	}
	known := plistKeys(reflect.TypeOf(f).Elem())
	var extra map[string]any
	for k, v := range all {
		if _, ok := known[k]; ok {
			continue
		}
		if extra == nil {
			extra = make(map[string]any)
		}
		extra[k] = v
	}
	return extra, nil
}

// fieldsToMap turns a struct into the dictionary the plist package would
// write for it, so extra keys can be added before encoding.
func fieldsToMap(v reflect.Value) map[string]any {
	t := v.Type()
	m := make(map[string]any, t.NumField())
	for i := range t.NumField() {
		name, omitEmpty, ok := plistTag(t.Field(i))
		if !ok {
			continue
		}
		fv := v.Field(i)
		if omitEmpty && isEmpty(fv) {
			continue
		}
		// The plist encoder looks through only one level of indirection
		// (the interface in the map), so store what a pointer points to.
		if fv.Kind() == reflect.Pointer && !fv.IsNil() {
			fv = fv.Elem()
		}
		m[name] = fv.Interface()
	}
	return m
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.String:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	default:
		return v.IsZero()
	}
}

// namedFieldError finds which key of a struct failed to decode, by decoding
// each field alone, and names it in the error. It runs only after a failure.
func namedFieldError(t reflect.Type, unmarshal func(any) error, err error) error {
	var dict map[string]any
	if unmarshal(&dict) != nil {
		return fmt.Errorf("want a dictionary: %w", err) // the root is the problem
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, ok := plistTag(f)
		if !ok {
			continue
		}
		one := reflect.StructOf([]reflect.StructField{{Name: f.Name, Type: f.Type, Tag: f.Tag}})
		if ferr := unmarshal(reflect.New(one).Interface()); ferr != nil {
			return fmt.Errorf("key %s: %w", name, ferr)
		}
	}
	return err
}
