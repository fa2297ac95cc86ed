//go:build ignore

// mktable regenerates table_gen.go from the GS1 Barcode Syntax Dictionary.
// Run it with "go generate" in this directory.
package main

import (
	"log"
	"os"

	"github.com/dockgate/dockgate/encoder/gs1/internal/gen"
)

func main() {
	src, err := os.ReadFile("internal/gen/gs1-syntax-dictionary.txt")
	if err != nil {
		log.Fatal(err)
	}
	out, err := gen.Generate(src)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile("table_gen.go", out, 0o644); err != nil {
		log.Fatal(err)
	}
}
