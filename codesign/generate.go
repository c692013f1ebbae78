package codesign

// The Mach-O test binaries in testdata/codesign are made by tools this
// project did not write (the Go linker, github.com/anchore/quill) through a
// generator in its own module, so quill's dependencies stay out of go.mod.
// Regenerate them (new keys, new cdhashes; the tests read facts.json) with
// `go generate ./codesign/`.
//go:generate sh -c "cd internal/testgen && go run . -out ../../../testdata/codesign"
