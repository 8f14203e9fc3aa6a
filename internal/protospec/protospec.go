package protospec

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hamlet-vn/hamlet/schema"
)

// Paths, relative to the repository's root.
const (
	ProtocolDoc = "docs/PROTOCOL.md"
	VectorsDir  = "docs/protocol-vectors"
	Command     = "go run ./cmd/hamlet-spec"
)

// File is one generated file: its path from the repository's root and its
// bytes.
type File struct {
	Path string
	Data []byte
}

// SpliceSchema returns doc with the text between schema.SpecBegin and
// schema.SpecEnd replaced by schema.SpecMarkdown().
func SpliceSchema(doc []byte) ([]byte, error) {
	begin := bytes.Index(doc, []byte(schema.SpecBegin+"\n"))
	end := bytes.Index(doc, []byte(schema.SpecEnd))
	if begin < 0 || end < begin || bytes.Count(doc, []byte(schema.SpecBegin)) != 1 || bytes.Count(doc, []byte(schema.SpecEnd)) != 1 {
		return nil, fmt.Errorf("%s must hold the line %q once, and later %q once", ProtocolDoc, schema.SpecBegin, schema.SpecEnd)
	}
	start := begin + len(schema.SpecBegin) + 1
	var out bytes.Buffer
	out.Write(doc[:start])
	out.WriteString(schema.SpecMarkdown())
	out.Write(doc[end:])
	return out.Bytes(), nil
}

// Generate returns every generated file, given the repository's root (the
// spec's hand-written parts are read from it).
func Generate(root string) ([]File, error) {
	doc, err := os.ReadFile(filepath.Join(root, ProtocolDoc))
	if err != nil {
		return nil, fmt.Errorf("read the spec: %w", err)
	}
	spliced, err := SpliceSchema(doc)
	if err != nil {
		return nil, err
	}
	vs, err := Vectors()
	if err != nil {
		return nil, fmt.Errorf("make the vectors: %w", err)
	}
	return append([]File{{Path: ProtocolDoc, Data: spliced}}, vs...), nil
}

// Stale lists the generated files under root whose content differs from
// fs, and the vector files that are there but would not be generated.
func Stale(root string, fs []File) ([]string, error) {
	var out []string
	want := map[string]bool{}
	for _, f := range fs {
		want[f.Path] = true
		have, err := os.ReadFile(filepath.Join(root, f.Path))
		if err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		if !bytes.Equal(have, f.Data) {
			out = append(out, f.Path)
		}
	}
	extra, err := filepath.Glob(filepath.Join(root, VectorsDir, "*.json"))
	if err != nil {
		return nil, err
	}
	for _, p := range extra {
		rel := filepath.ToSlash(strings.TrimPrefix(p, root+string(filepath.Separator)))
		if !want[rel] {
			out = append(out, rel)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Write writes fs under root and removes vector files that fs does not
// hold. It returns the paths it changed.
func Write(root string, fs []File) ([]string, error) {
	stale, err := Stale(root, fs)
	if err != nil {
		return nil, err
	}
	data := map[string][]byte{}
	for _, f := range fs {
		data[f.Path] = f.Data
	}
	if err := os.MkdirAll(filepath.Join(root, VectorsDir), 0o755); err != nil {
		return nil, err
	}
	for _, p := range stale {
		full := filepath.Join(root, filepath.FromSlash(p))
		d, ok := data[p]
		if !ok {
			if err := os.Remove(full); err != nil {
				return nil, err
			}
			continue
		}
		if err := os.WriteFile(full, d, 0o644); err != nil {
			return nil, err
		}
	}
	return stale, nil
}
