package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/server/storetest"
)

func TestSQLiteStoreConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) server.Store {
		s, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "hamlet.db"), sqlitestore.Options{Synchronous: "NORMAL"})
		require.NoError(t, err)
		return s
	})
}
