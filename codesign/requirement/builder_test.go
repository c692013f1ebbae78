package requirement_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	rq "github.com/goxpc/goxpc/codesign/requirement"
)

func TestBuilder(t *testing.T) {
	r, err := new(rq.Builder).
		Identifier("com.example.app", "com.example.helper").
		TeamID("ABCDE12345").
		AppleGenericAnchor().
		MinimumVersion("1.2").
		Entitlement("com.apple.security.app-sandbox").
		EntitlementEquals("com.apple.application-identifier", "ABCDE12345.com.example.app").
		Build()
	require.NoError(t, err)
	want := `(identifier "com.example.app" or identifier "com.example.helper") and certificate leaf[subject.OU] = ABCDE12345 and anchor apple generic and info[CFBundleShortVersionString] >= "1.2" and entitlement["com.apple.security.app-sandbox"] /* exists */ and entitlement["com.apple.application-identifier"] = "ABCDE12345.com.example.app"`
	assert.Equal(t, want, r.String())
	// The builder's output is ordinary text: it parses back to the same AST.
	back, err := rq.Parse(r.String())
	require.NoError(t, err)
	assert.Equal(t, r, back)

	for name, b := range map[string]*rq.Builder{
		"empty":          new(rq.Builder),
		"no identifiers": new(rq.Builder).Identifier(),
		"bad team":       new(rq.Builder).TeamID("abc"),
		"bad oid":        new(rq.Builder).CertificateExtension(rq.SlotLeaf, "1"),
		"bad info op":    new(rq.Builder).InfoCompare("k", rq.MatchExists, ""),
		"backslash":      new(rq.Builder).Identifier(`a\b`),
		"nil expr":       new(rq.Builder).Expr(nil),
	} {
		_, err := b.Build()
		assert.ErrorIs(t, err, rq.ErrBuilder, name)
		assert.Empty(t, b.String(), name)
	}
}

func TestDeveloperIDApp(t *testing.T) {
	r, err := rq.DeveloperIDApp("com.example.app", "ABCDE12345")
	require.NoError(t, err)
	assert.Equal(t, `identifier "com.example.app" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = ABCDE12345`, r.String())
	// Same bytes as Apple's compiler makes from the text Xcode writes.
	fromText, err := rq.Parse(`identifier "com.example.app" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = ABCDE12345`)
	require.NoError(t, err)
	a, _ := r.MarshalBinary()
	b, _ := fromText.MarshalBinary()
	assert.Equal(t, b, a)
	_, err = rq.DeveloperIDApp("", "ABCDE12345")
	assert.ErrorIs(t, err, rq.ErrBuilder)
}

// The requirement an XPC daemon should set for its one Developer ID app.
func ExampleDeveloperIDApp() {
	r, err := requirementForApp()
	if err != nil {
		panic(err)
	}
	fmt.Println(r)
	// Output:
	// identifier "com.example.app" and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = ABCDE12345
}

func requirementForApp() (*rq.Requirement, error) {
	return rq.DeveloperIDApp("com.example.app", "ABCDE12345")
}

func ExampleBuilder() {
	r, err := new(rq.Builder).
		Identifier("com.example.app", "com.example.app.beta").
		DeveloperID("ABCDE12345").
		MinimumVersion("2.0").
		Build()
	if err != nil {
		panic(err)
	}
	fmt.Println(r)
	// Output:
	// (identifier "com.example.app" or identifier "com.example.app.beta") and anchor apple generic and certificate 1[field.1.2.840.113635.100.6.2.6] /* exists */ and certificate leaf[field.1.2.840.113635.100.6.1.13] /* exists */ and certificate leaf[subject.OU] = ABCDE12345 and info[CFBundleShortVersionString] >= "2.0"
}

func ExampleParse() {
	_, err := rq.Parse(`identifier "com.example.app" and anchor apple generic and certificate leaf[subject.OU] = `)
	fmt.Println(err)

	r, err := rq.Parse(`identifier com.example.app and anchor apple generic`)
	if err != nil {
		panic(err)
	}
	blob, _ := r.MarshalBinary()
	fmt.Printf("%s\n%x\n", r, blob)
	// Output:
	// requirement: syntax error at line 1, column 90 near end of input: expected a value (word, quoted string or 0x hex)
	// identifier "com.example.app" and anchor apple generic
	// fade0c000000002c0000000100000006000000020000000f636f6d2e6578616d706c652e617070000000000f
}

func ExampleDecompile() {
	// The csreq TCC stores for Terminal.
	blob := []byte{
		0xfa, 0xde, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x30, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06,
		0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x12, 'c', 'o', 'm', '.', 'a', 'p', 'p', 'l',
		'e', '.', 'T', 'e', 'r', 'm', 'i', 'n', 'a', 'l', 0x00, 0x00, 0x00, 0x00, 0x00, 0x03,
	}
	r, err := rq.Decompile(blob)
	if err != nil {
		panic(err)
	}
	fmt.Println(r)
	// Output:
	// identifier "com.apple.Terminal" and anchor apple
}

func ExampleParseSet() {
	s, err := rq.ParseSet("designated => identifier \"com.example.app\" and anchor apple generic\nhost => anchor apple\n")
	if err != nil {
		panic(err)
	}
	fmt.Print(s)
	fmt.Println(s[rq.Designated])
	// Output:
	// host => anchor apple
	// designated => identifier "com.example.app" and anchor apple generic
	// identifier "com.example.app" and anchor apple generic
}
