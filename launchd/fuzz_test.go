package launchd_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/goxpc/goxpc/launchd"
)

func addSeeds(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join(goldenDir, pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzParseJob: decoding never panics, and whatever decodes re-encodes and
// decodes again.
func FuzzParseJob(f *testing.F) {
	addSeeds(f, "*.plist")
	addSeeds(f, "*.bplist")
	f.Add([]byte("bplist00"))
	f.Add([]byte("<plist><dict><key>KeepAlive</key><dict/></dict></plist>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		job, err := launchd.ParseJob(data)
		if err != nil {
			return
		}
		job.Validate()
		out, err := launchd.Marshal(job)
		if err != nil {
			// Values a plist cannot hold (there are none today) would land here.
			t.Fatalf("re-encode: %v", err)
		}
		if _, err := launchd.ParseJob(out); err != nil {
			t.Fatalf("decode of our own encoding failed: %v\n%s", err, out)
		}
	})
}

// FuzzParseBundleInfo: Info.plist decoding never panics.
func FuzzParseBundleInfo(f *testing.F) {
	addSeeds(f, "*info.plist")
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := launchd.ParseBundleInfo(data)
		if err != nil {
			return
		}
		b.Validate()
		if _, err := launchd.MarshalBinary(b); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}

// FuzzParsePrint: launchctl output parsing never panics.
func FuzzParsePrint(f *testing.F) {
	addSeeds(f, "print-*.txt")
	f.Fuzz(func(t *testing.T, data []byte) {
		st := launchd.ParsePrint(string(data))
		if st == nil || st.PID < 0 {
			t.Fatalf("bad status %+v", st)
		}
	})
}
