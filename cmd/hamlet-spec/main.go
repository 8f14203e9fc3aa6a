// Command hamlet-spec writes the parts of the protocol's documentation that
// are made from code: the conformance vectors in docs/protocol-vectors/ and
// the data-schema section of docs/PROTOCOL.md (internal/protospec). Run it
// from the repository's root after changing the codec, an error code or the
// schema registry:
//
//	go run ./cmd/hamlet-spec
//
// With -check it writes nothing and exits 1 when a file is out of date.
//
// It imports internal/protospec alone of the module, never the server or
// the agent: the spec is of the wire.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hamlet-vn/hamlet/internal/protospec"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hamlet-spec", flag.ContinueOnError)
	fs.SetOutput(stderr)
	root := fs.String("root", ".", "the repository's root")
	check := fs.Bool("check", false, "write nothing; exit 1 when a generated file is out of date")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	files, err := protospec.Generate(*root)
	if err != nil {
		fmt.Fprintf(stderr, "hamlet-spec: %v\n", err)
		return 1
	}
	if *check {
		stale, err := protospec.Stale(*root, files)
		if err != nil {
			fmt.Fprintf(stderr, "hamlet-spec: %v\n", err)
			return 1
		}
		for _, p := range stale {
			fmt.Fprintf(stdout, "out of date: %s\n", p)
		}
		if len(stale) > 0 {
			fmt.Fprintf(stdout, "run: %s\n", protospec.Command)
			return 1
		}
		return 0
	}
	changed, err := protospec.Write(*root, files)
	if err != nil {
		fmt.Fprintf(stderr, "hamlet-spec: %v\n", err)
		return 1
	}
	for _, p := range changed {
		fmt.Fprintf(stdout, "wrote %s\n", p)
	}
	return 0
}
