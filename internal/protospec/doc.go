// Package protospec generates the parts of the protocol's documentation
// that are made from code, so that a client written in another language can
// test itself without reading Go and the spec cannot drift from the code:
//
//   - docs/protocol-vectors/*.json: for each message type and each error
//     code, frames as hex with their meaning as JSON (vectors.go);
//   - the data-schema section of docs/PROTOCOL.md, from schema's registry
//     (schema.SpecMarkdown), between its markers.
//
// `go run ./cmd/hamlet-spec` writes them; the package's tests fail when
// the committed files differ from what it would write.
//
// It speaks of the wire alone: it imports schema and syncproto, never the
// agent or the server.
package protospec
