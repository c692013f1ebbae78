// Command benchratio reads "go test -bench" output on stdin and prints how
// each goxpc benchmark compares with the baseline measured beside it in the
// same run, against the project's targets:
//
//	go test -run '^$' -bench . -benchmem -count 5 ./xpc/ | go run ./internal/benchratio
//
// A benchmark whose name has a path element "raw", "json" or "gob" is a
// baseline; its sibling with that element replaced by "xpc" is the
// candidate (BenchmarkRoundTrip/raw/64B pairs with BenchmarkRoundTrip/xpc/64B,
// BenchmarkCodec/json with BenchmarkCodec/xpc). Each side is summarized by
// the median over its runs (-count), which shrugs off the odd run disturbed
// by the rest of the machine.
//
// Latency benchmarks report xpc ns/op ÷ baseline ns/op (lower is better);
// throughput benchmarks (a "Throughput" name) report baseline ns/op ÷ xpc
// ns/op, the share of the baseline's throughput goxpc reaches (higher is
// better). Where both sides report cpu-ns/op, its ratio is shown too: on a
// busy machine wall time mostly measures waiting, CPU time the work.
//
// It exits 0 whatever the ratios, so it can run in CI as a report; with
// -strict it exits 1 if a target is missed or nothing could be paired.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

func main() {
	strict := flag.Bool("strict", false, "exit 1 if a target is missed or no benchmark pairs were found")
	var extra targetFlags
	flag.Var(&extra, "target", "extra or overriding target `prefix/baseline=op ratio`, e.g. 'BenchmarkCodec/json=<=0.5' or 'BenchmarkThroughput8/raw=>=0.9' (repeatable)")
	flag.Parse()

	runs, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchratio:", err)
		os.Exit(2)
	}
	targets := append(slices.Clone(extra), defaultTargets...) // first match wins
	rows := pair(runs, targets)
	render(os.Stdout, rows)
	if *strict && (len(rows) == 0 || slices.ContainsFunc(rows, func(r row) bool { return r.verdict() == "MISS" })) {
		os.Exit(1)
	}
}

// defaultTargets are the goals of issue 2, first match wins: a round trip
// within 1.3x of a raw socket ping-pong, 8-client throughput at least 0.8x
// of raw, and the codec 3x faster than encoding/json and 2x than gob.
var defaultTargets = []target{
	{prefix: "BenchmarkRoundTrip/raw", atMost: true, limit: 1.3},
	{prefix: "BenchmarkThroughput8/raw", atMost: false, limit: 0.8},
	{prefix: "BenchmarkCodec/json", atMost: true, limit: 1.0 / 3},
	{prefix: "BenchmarkCodec/gob", atMost: true, limit: 0.5},
}

// target is a bound on the ratio of the pairs whose baseline name starts
// with prefix.
type target struct {
	prefix string
	atMost bool // ratio ≤ limit; else ratio ≥ limit
	limit  float64
}

func (t target) String() string {
	op := "≥"
	if t.atMost {
		op = "≤"
	}
	return op + " " + strconv.FormatFloat(t.limit, 'g', 3, 64)
}

func (t target) met(ratio float64) bool {
	if t.atMost {
		return ratio <= t.limit
	}
	return ratio >= t.limit
}

// parseTarget reads "prefix=<=1.3" or "prefix=>=0.8".
func parseTarget(s string) (target, error) {
	prefix, bound, ok := strings.Cut(s, "=")
	var t target
	switch {
	case !ok || prefix == "":
		return t, fmt.Errorf("target %q: want prefix=<=ratio or prefix=>=ratio", s)
	case strings.HasPrefix(bound, "<="):
		t.atMost = true
	case strings.HasPrefix(bound, ">="):
	default:
		return t, fmt.Errorf("target %q: the bound must start with <= or >=", s)
	}
	v, err := strconv.ParseFloat(bound[2:], 64)
	if err != nil || v <= 0 || math.IsInf(v, 0) {
		return t, fmt.Errorf("target %q: bad ratio %q", s, bound[2:])
	}
	t.prefix, t.limit = prefix, v
	return t, nil
}

type targetFlags []target

func (f *targetFlags) String() string { return fmt.Sprint(*f) }

func (f *targetFlags) Set(s string) error {
	t, err := parseTarget(s)
	if err != nil {
		return err
	}
	*f = append(*f, t)
	return nil
}

// runs maps a benchmark name (without the -GOMAXPROCS suffix) to its
// samples per unit ("ns/op", "cpu-ns/op", ...), one per run.
type runs map[string]map[string][]float64

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parse reads benchmark result lines and ignores everything else.
func parse(r io.Reader) (runs, error) {
	out := runs{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break // not a value/unit pair: the rest of the line is noise
			}
			if out[m[1]] == nil {
				out[m[1]] = map[string][]float64{}
			}
			out[m[1]][f[i+1]] = append(out[m[1]][f[i+1]], v)
		}
	}
	return out, sc.Err()
}

// baselines are the path elements that name a baseline benchmark.
var baselines = []string{"raw", "json", "gob"}

// row is one baseline/candidate pair.
type row struct {
	name       string // the candidate, e.g. BenchmarkRoundTrip/xpc/64B
	baseline   string
	throughput bool
	base, cand float64 // median ns/op
	ratio      float64 // as the target reads it; see package doc
	cpuRatio   float64 // NaN if either side lacks cpu-ns/op
	allocs     float64 // median allocs/op of the candidate; NaN if absent
	runs       int     // candidate runs
	target     *target
}

func (r row) verdict() string {
	switch {
	case r.target == nil:
		return "-"
	case r.target.met(r.ratio):
		return "PASS"
	}
	return "MISS"
}

// pair matches baselines with their xpc siblings, sorted by name.
func pair(rs runs, targets []target) []row {
	var out []row
	for name, base := range rs {
		elems := strings.Split(name, "/")
		for i, e := range elems {
			if !slices.Contains(baselines, e) {
				continue
			}
			c := slices.Clone(elems)
			c[i] = "xpc"
			cname := strings.Join(c, "/")
			cand, ok := rs[cname]
			if !ok || len(base["ns/op"]) == 0 || len(cand["ns/op"]) == 0 {
				continue
			}
			r := row{name: cname, baseline: name, throughput: strings.Contains(elems[0], "Throughput"),
				base: median(base["ns/op"]), cand: median(cand["ns/op"]),
				cpuRatio: math.NaN(), allocs: math.NaN(), runs: len(cand["ns/op"])}
			r.ratio = r.cand / r.base
			if bc, cc := base["cpu-ns/op"], cand["cpu-ns/op"]; len(bc) > 0 && len(cc) > 0 {
				r.cpuRatio = median(cc) / median(bc)
			}
			if r.throughput {
				r.ratio = r.base / r.cand
				r.cpuRatio = 1 / r.cpuRatio
			}
			if a := cand["allocs/op"]; len(a) > 0 {
				r.allocs = median(a)
			}
			for _, t := range targets {
				if strings.HasPrefix(name, t.prefix) {
					r.target = &t
					break
				}
			}
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b row) int { return strings.Compare(a.name+" "+a.baseline, b.name+" "+b.baseline) })
	return out
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func render(w io.Writer, rows []row) {
	if len(rows) == 0 {
		fmt.Fprintln(w, "benchratio: no baseline/xpc benchmark pairs in the input")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "benchmark\tvs\tbaseline ns/op\txpc ns/op\tratio\ttarget\tresult\tcpu ratio\txpc allocs/op\truns")
	for _, r := range rows {
		kind := "×"
		if r.throughput {
			kind = "× thr"
		}
		tgt := "-"
		if r.target != nil {
			tgt = r.target.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.2f%s\t%s\t%s\t%s\t%s\t%d\n",
			r.name, lastElem(r.baseline), num(r.base), num(r.cand), r.ratio, kind, tgt, r.verdict(),
			ratioOrDash(r.cpuRatio), num(r.allocs), r.runs)
	}
	tw.Flush()
	fmt.Fprintln(w, "ratio: xpc ÷ baseline time (lower is better); \"× thr\": baseline ÷ xpc time, the share of the baseline's throughput (higher is better). Medians over runs.")
}

// lastElem names the baseline by the element that made it one.
func lastElem(name string) string {
	for _, e := range strings.Split(name, "/") {
		if slices.Contains(baselines, e) {
			return e
		}
	}
	return name
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "-"
	}
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func ratioOrDash(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.2f", v)
}
