// Package simtest is the deterministic simulation of the whole system
// (issue 17): the real server on its real SQLite store (or its PostgreSQL
// store, Config.Postgres: pg.go) and real agent replicas on real SQLite
// files, in one process, connected through an
// in-memory network the harness controls, on a simulated clock, every
// interleaving and fault chosen by one seed so that a failure replays
// exactly (`make sim SEED=…`).
//
// It is a test helper: only tests import it, and it is the one package
// that links the server and the agent together. It never dials a real
// network, never reads the wall clock for what the system decides, and
// never draws randomness that is not the seed's.
package simtest
