package xpc_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/goxpc/goxpc/xpc"
)

// exampleJob is a request body described by struct tags.
type exampleJob struct {
	Name     string            `xpc:"name"`
	Priority uint8             `xpc:"priority"`
	Args     []string          `xpc:"args,omitempty"`
	Env      map[string]string `xpc:"env,omitempty"`
	Started  time.Time         `xpc:"started,omitempty"`
	Secret   string            `xpc:"-"`
}

// Marshal turns a struct into the Dict that travels on the wire: signed
// integers become int64, unsigned ones uint64, slices become arrays and
// maps dictionaries.
func ExampleMarshal() {
	d, err := xpc.Marshal(exampleJob{Name: "backup", Priority: 3, Args: []string{"-v"}, Secret: "not sent"})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%#v\n", d["name"])
	fmt.Printf("%#v\n", d["priority"])
	fmt.Printf("%#v\n", d["args"])
	_, hasEnv := d["env"]
	_, hasSecret := d["Secret"]
	fmt.Println(len(d), hasEnv, hasSecret)
	// Output:
	// "backup"
	// 0x3
	// []interface {}{"-v"}
	// 3 false false
}

// Unmarshal fills a struct from a received Dict; integers convert between
// int64, uint64 and the field's type when the value fits, and an error
// names the key path of the first value that does not.
func ExampleUnmarshal() {
	msg := xpc.Dict{
		"name":     "backup",
		"priority": int64(3), // an int64 on the wire fits a uint8 field
		"env":      xpc.Dict{"HOME": "/var/empty"},
		"extra":    "keys without a field are ignored",
	}
	var job exampleJob
	if err := xpc.Unmarshal(msg, &job); err != nil {
		panic(err)
	}
	fmt.Println(job.Name, job.Priority, job.Env["HOME"])

	err := xpc.Unmarshal(xpc.Dict{"priority": int64(300)}, &job)
	var ute *xpc.UnmarshalTypeError
	fmt.Println(errors.As(err, &ute), ute.Path)
	fmt.Println(err)
	// Output:
	// backup 3 /var/empty
	// true priority
	// xpc: cannot unmarshal int64 300 into priority of Go type uint8
}

// The typed getters return the value and whether the key held that type,
// so handlers need no type switches.
func ExampleDict_String() {
	body := xpc.Dict{"method": "status", "verbose": true, "limit": uint64(10)}

	method, ok := body.String("method")
	fmt.Println(method, ok)
	verbose, _ := body.Bool("verbose")
	fmt.Println(verbose)
	// limit is a uint64, so asking for an int64 reports false.
	n, ok := body.Int64("limit")
	fmt.Println(n, ok)
	u, ok := body.Uint64("limit")
	fmt.Println(u, ok)
	// Output:
	// status true
	// true
	// 0 false
	// 10 true
}

// Encode shows the wire bytes: the RemoteXPC object header (magic
// 0x42133742, version 5), then the root dictionary's type tag 0xf000, its
// byte length and entry count, then each key and value.
func ExampleEncode() {
	b, err := xpc.Encode(xpc.Dict{"ok": true})
	if err != nil {
		panic(err)
	}
	fmt.Print(hex.Dump(b))

	d, err := xpc.Decode(b)
	fmt.Println(d, err)

	_, err = xpc.Decode(b[:len(b)-1])
	fmt.Println(errors.Is(err, xpc.ErrMalformed))
	// Output:
	// 00000000  42 37 13 42 05 00 00 00  00 f0 00 00 10 00 00 00  |B7.B............|
	// 00000010  01 00 00 00 6f 6b 00 00  00 20 00 00 01 00 00 00  |....ok... ......|
	// map[ok:true] <nil>
	// true
}
