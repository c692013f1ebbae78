// Command gen writes random messages encoded by xpc.Encode into the
// directory named by its first argument, as test vectors for the C codec.
// With a second argument it also writes mutants of them there, each named
// .ok or .bad after what xpc.Decode (the Go decoder) says of it, so the C
// builder can be checked to agree.
package main

import (
	"encoding/binary"
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
		if len(os.Args) > 2 {
			for j := 0; j < 40; j++ {
				m := mutate(r, b)
				verdict := "ok"
				if _, err := xpc.Decode(m); err != nil {
					verdict = "bad"
				}
				if err := os.WriteFile(fmt.Sprintf("%s/%03d-%02d.%s", os.Args[2], i, j, verdict), m, 0o644); err != nil {
					panic(err)
				}
			}
		}
	}
}

// mutate returns a damaged copy of b: a flipped bit, a truncation, a word
// set to 0, 1, a small number or all ones, two words swapped, or a word
// duplicated or removed.
func mutate(r *rand.Rand, b []byte) []byte {
	m := append([]byte(nil), b...)
	words := len(m) / 4
	w := func() int { return 4 * r.IntN(words) }
	switch r.IntN(6) {
	case 0:
		m[r.IntN(len(m))] ^= 1 << r.IntN(8)
	case 1:
		m = m[:r.IntN(len(m))]
	case 2:
		vals := []uint32{0, 1, 4, 8, uint32(r.IntN(64)), 0xffffffff, 0xb000, 0x12000}
		binary.LittleEndian.PutUint32(m[w():], vals[r.IntN(len(vals))])
	case 3:
		i, j := w(), w()
		var t [4]byte
		copy(t[:], m[i:])
		copy(m[i:i+4], m[j:j+4])
		copy(m[j:j+4], t[:])
	case 4:
		i := w()
		m = append(m[:i+4:i+4], m[i:]...)
	default:
		i := w()
		m = append(m[:i:i], m[i+4:]...)
	}
	return m
}
