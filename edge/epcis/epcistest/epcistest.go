// Package epcistest validates EPCIS 2.0 JSON against the official schema
// (edge/epcis/testdata/EPCIS-JSON-Schema.json), for the tests of every
// package that publishes EPCIS documents.
package epcistest

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// lookaheadRegexp evaluates the schema's "^(?!(X))" patterns, which RE2
// cannot: it matches when ^(X) does not.
type lookaheadRegexp struct {
	src string
	re  *regexp.Regexp
	neg bool
}

func (r lookaheadRegexp) String() string { return r.src }
func (r lookaheadRegexp) MatchString(s string) bool {
	return r.re.MatchString(s) != r.neg
}

func compileRegexp(s string) (jsonschema.Regexp, error) {
	if strings.HasPrefix(s, "^(?!") && strings.HasSuffix(s, ")") {
		re, err := regexp.Compile("^(?:" + s[len("^(?!"):len(s)-1] + ")")
		return lookaheadRegexp{s, re, true}, err
	}
	re, err := regexp.Compile(s)
	return lookaheadRegexp{s, re, false}, err
}

var (
	once      sync.Once
	schema    *jsonschema.Schema
	schemaErr error
)

// schemaPath is the schema file, found beside this package's source.
func schemaPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "EPCIS-JSON-Schema.json")
}

// Schema is the compiled EPCIS 2.0 JSON schema, with format assertions on.
func Schema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	once.Do(func() {
		f, err := os.Open(schemaPath())
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		doc, err := jsonschema.UnmarshalJSON(f)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		c.UseRegexpEngine(compileRegexp)
		if schemaErr = c.AddResource("https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json", doc); schemaErr != nil {
			return
		}
		schema, schemaErr = c.Compile("https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json")
	})
	if schemaErr != nil {
		tb.Fatal(schemaErr)
	}
	return schema
}

// Check reports whether doc (JSON) validates, and why not.
func Check(tb testing.TB, doc []byte) error {
	tb.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return err
	}
	return Schema(tb).Validate(inst)
}

// Validate fails the test when doc (JSON) does not validate.
func Validate(tb testing.TB, name string, doc []byte) {
	tb.Helper()
	if err := Check(tb, doc); err != nil {
		tb.Fatalf("%s does not validate against the EPCIS 2.0 schema: %v\n%s", name, err, doc)
	}
}
