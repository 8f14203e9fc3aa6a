package pgstore_test

import (
	"os"
	"testing"

	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
)

// TestMain drops the migrated template the tests' databases were copied
// from (pgtest.MigratedDB).
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplate()
	os.Exit(code)
}
