package main

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sample = `goos: linux
goarch: amd64
pkg: github.com/goxpc/goxpc/xpc
BenchmarkRoundTrip/raw/64B-2         	  100000	     10000 ns/op	   2.55 MB/s	      3000 cpu-ns/op	 0.5 ctxsw/op	       0 B/op	       0 allocs/op
BenchmarkRoundTrip/raw/64B-2         	  100000	     30000 ns/op	   2.55 MB/s	      5000 cpu-ns/op	 0.5 ctxsw/op	       0 B/op	       0 allocs/op
BenchmarkRoundTrip/raw/64B-2         	  100000	     12000 ns/op	   2.55 MB/s	      4000 cpu-ns/op	 0.5 ctxsw/op	       0 B/op	       0 allocs/op
BenchmarkRoundTrip/xpc/64B-2         	  100000	     12000 ns/op	   2.55 MB/s	      8000 cpu-ns/op	 0.5 ctxsw/op	    1720 B/op	      23 allocs/op
BenchmarkRoundTrip/xpc/64B-2         	  100000	     13000 ns/op	   2.55 MB/s	      8000 cpu-ns/op	 0.5 ctxsw/op	    1720 B/op	      21 allocs/op
BenchmarkRoundTrip/xpc/64B-2         	  100000	     99000 ns/op	   2.55 MB/s	      8000 cpu-ns/op	 0.5 ctxsw/op	    1720 B/op	      21 allocs/op
BenchmarkRoundTrip/raw/64KiB-2       	   10000	    100000 ns/op
BenchmarkRoundTrip/xpc/64KiB-2       	   10000	    600000 ns/op
BenchmarkThroughput8/raw-2           	  100000	     10000 ns/op
BenchmarkThroughput8/raw-2           	  100000	     20000 ns/op
BenchmarkThroughput8/xpc-2           	  100000	     20000 ns/op
BenchmarkThroughput8/xpc-2           	  100000	     30000 ns/op
BenchmarkCodec/xpc-2                 	 1000000	      1000 ns/op	  600 wire-B/op
BenchmarkCodec/json-2                	  200000	      5000 ns/op	  400 wire-B/op
BenchmarkCodec/gob-2                 	  500000	       800 ns/op
BenchmarkDecode-2                    	 1000000	      1000 ns/op
BenchmarkOnlyRaw/raw-2               	 1000000	      1000 ns/op
--- FAIL: BenchmarkBroken
PASS
ok  	github.com/goxpc/goxpc/xpc	110.108s
`

func TestParseKeepsEveryRunAndUnit(t *testing.T) {
	rs, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	assert.Equal(t, []float64{10000, 30000, 12000}, rs["BenchmarkRoundTrip/raw/64B"]["ns/op"])
	assert.Equal(t, []float64{23, 21, 21}, rs["BenchmarkRoundTrip/xpc/64B"]["allocs/op"])
	assert.Equal(t, []float64{600}, rs["BenchmarkCodec/xpc"]["wire-B/op"])
	assert.NotContains(t, rs, "BenchmarkBroken")
	assert.Len(t, rs, 11)
}

func TestPairRatiosAndVerdicts(t *testing.T) {
	rs, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	rows := pair(rs, defaultTargets)
	byKey := map[string]row{}
	for _, r := range rows {
		byKey[r.name+" vs "+lastElem(r.baseline)] = r
	}
	require.Len(t, byKey, 5, "BenchmarkOnlyRaw and BenchmarkDecode have no pair")

	rt := byKey["BenchmarkRoundTrip/xpc/64B vs raw"]
	// Medians: raw 12000, xpc 13000; the 99000 outlier does not count.
	assert.InDelta(t, 13000.0/12000, rt.ratio, 1e-9)
	assert.Equal(t, "PASS", rt.verdict())
	assert.InDelta(t, 2.0, rt.cpuRatio, 1e-9)
	assert.Equal(t, 21.0, rt.allocs)
	assert.Equal(t, 3, rt.runs)

	big := byKey["BenchmarkRoundTrip/xpc/64KiB vs raw"]
	assert.InDelta(t, 6.0, big.ratio, 1e-9)
	assert.Equal(t, "MISS", big.verdict())
	assert.True(t, math.IsNaN(big.cpuRatio))

	// Throughput: raw median 15000, xpc 25000 → 60% of raw's throughput.
	thr := byKey["BenchmarkThroughput8/xpc vs raw"]
	assert.True(t, thr.throughput)
	assert.InDelta(t, 0.6, thr.ratio, 1e-9)
	assert.Equal(t, "MISS", thr.verdict())

	assert.Equal(t, "PASS", byKey["BenchmarkCodec/xpc vs json"].verdict())
	gob := byKey["BenchmarkCodec/xpc vs gob"]
	assert.InDelta(t, 1.25, gob.ratio, 1e-9)
	assert.Equal(t, "MISS", gob.verdict())
}

func TestTargetFlagOverridesDefault(t *testing.T) {
	tg, err := parseTarget("BenchmarkCodec/gob=<=1.5")
	require.NoError(t, err)
	rs, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	for _, r := range pair(rs, append([]target{tg}, defaultTargets...)) {
		if r.baseline == "BenchmarkCodec/gob" {
			assert.Equal(t, "PASS", r.verdict())
			assert.Equal(t, "≤ 1.5", r.target.String())
		}
	}
	for _, bad := range []string{"", "=<=1", "x", "x=1.3", "x=<=abc", "x=>=-1", "x=<=Inf"} {
		_, err := parseTarget(bad)
		assert.Error(t, err, bad)
	}
	th, err := parseTarget("BenchmarkThroughput8/raw=>=0.9")
	require.NoError(t, err)
	assert.False(t, th.met(0.85))
	assert.True(t, th.met(0.9))
}

func TestRenderTable(t *testing.T) {
	rs, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	var buf bytes.Buffer
	render(&buf, pair(rs, defaultTargets))
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 7, out) // header, 5 rows, legend
	assert.Contains(t, lines[0], "ratio")
	assert.Regexp(t, `BenchmarkRoundTrip/xpc/64B\s+raw\s+12000\s+13000\s+1\.08×\s+≤ 1\.3\s+PASS\s+2\.00\s+21\s+3`, out)
	assert.Regexp(t, `BenchmarkThroughput8/xpc\s+raw\s+15000\s+25000\s+0\.60× thr\s+≥ 0\.8\s+MISS`, out)

	buf.Reset()
	render(&buf, nil)
	assert.Contains(t, buf.String(), "no baseline/xpc benchmark pairs")
}

func TestMedian(t *testing.T) {
	assert.Equal(t, 2.0, median([]float64{3, 1, 2}))
	assert.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
}
