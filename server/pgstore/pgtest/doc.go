// Package pgtest gives tests a PostgreSQL database: the cluster
// scripts/pg-test.sh starts for `make test` (HAMLET_TEST_POSTGRES), one
// fresh database per test. With HAMLET_TEST_POSTGRES unset a test skips,
// except in CI (CI=true), where it fails: there the PostgreSQL tests must
// run, never skip.
//
// It is a test helper: only tests import it, and a package that ships must
// never import it.
package pgtest
