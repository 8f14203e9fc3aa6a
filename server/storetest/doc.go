// Package storetest is the conformance suite every server.Store must pass
// (server/sqlitestore, server/pgstore). Call Run from the implementation's
// tests with a function that opens a fresh, empty store. Where the server
// decides from the store's primitives (collection), the suite runs the
// server's policy over the store, as the server does.
//
// It is a test helper: only the stores' tests import it, and it must never
// import a store itself.
package storetest
