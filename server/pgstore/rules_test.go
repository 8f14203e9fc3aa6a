package pgstore_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/pgstore"
	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The sync rules of server/rules_test.go, on PostgreSQL.
func startPG(t *testing.T, cfg func(*server.Config)) *servertest.TS {
	st, err := pgstore.Open(ctx, pgtest.MigratedDB(t, pgstore.Migrate), pgstore.Options{MaxConns: 8, Logger: servertest.Logger()})
	require.NoError(t, err)
	return servertest.Start(t, servertest.WithStore(st), servertest.WithConfig(cfg))
}

func TestScopeRulesPostgres(t *testing.T)      { servertest.RunScopeRules(t, startPG) }
func TestValidationRulesPostgres(t *testing.T) { servertest.RunValidationRules(t, startPG) }
func TestCollectionRulesPostgres(t *testing.T) { servertest.RunCollectionRules(t, startPG) }
func TestLostAckRulesPostgres(t *testing.T)    { servertest.RunLostAckRules(t, startPG) }
func TestNewRowRulesPostgres(t *testing.T)     { servertest.RunNewRowRules(t, startPG) }
