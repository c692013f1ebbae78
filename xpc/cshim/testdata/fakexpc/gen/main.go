// Command gen writes random messages encoded by xpc.Encode into the
// directory named by its argument, as test vectors for the C codec.
package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/goxpc/goxpc/xpc"
)

func val(r *rand.Rand, depth int) any {
	n := 12
	if depth > 5 {
		n = 10
	}
	switch r.IntN(n) {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return int64(r.Uint64())
	case 3:
		return r.Uint64()
	case 4:
		return r.Float64() * 1e6
	case 5:
		return time.Unix(0, int64(r.Uint64()>>2))
	case 6:
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return b
	case 7:
		return strings.Repeat("s", r.IntN(9))
	case 8:
		var u xpc.UUID
		u[0] = byte(r.IntN(256))
		return u
	case 9:
		return strings.Repeat("é", r.IntN(5))
	case 10:
		a := make([]any, r.IntN(4))
		for i := range a {
			a[i] = val(r, depth+1)
		}
		return a
	default:
		d := xpc.Dict{}
		for i := r.IntN(4); i > 0; i-- {
			d[fmt.Sprintf("k%d%s", i, strings.Repeat("x", r.IntN(6)))] = val(r, depth+1)
		}
		return d
	}
}

func main() {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		d := xpc.Dict{}
		for j := r.IntN(6); j > 0; j-- {
			d[fmt.Sprintf("key%d", j)] = val(r, 0)
		}
		b, err := xpc.Encode(d)
		if err != nil {
			panic(err)
		}
		if err := os.WriteFile(fmt.Sprintf("%s/%03d.bin", os.Args[1], i), b, 0o644); err != nil {
			panic(err)
		}
	}
}
