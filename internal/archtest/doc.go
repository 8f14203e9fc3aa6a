// Package archtest holds the rules of the project's shape as tests, so a
// change that breaks one fails `make test` instead of waiting for a
// reviewer: which package may import which (the drawing in
// docs/ARCHITECTURE.md), that the pure packages read no wall clock, that
// no SQL is written in server/ outside the stores, and that every function
// docs/ARCHITECTURE.md names exists.
//
// The rules read the module's package graph from `go list -json ./...`
// (one call, about a second) and the sources of the packages they check.
// Each rule is also run against the graph with a forbidden import added,
// so a rule that could no longer fail fails its own test.
//
// It has no code outside its tests and is imported by nothing; it must
// never import a package of the module.
package archtest
