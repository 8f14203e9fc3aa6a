package server_test

import (
	"testing"

	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// The suites run on PostgreSQL too (server/pgstore/rules_test.go).
func startSQLite(t *testing.T, cfg func(*server.Config)) *servertest.TS {
	return servertest.Start(t, servertest.WithConfig(cfg))
}

func TestScopeRulesSQLite(t *testing.T)      { servertest.RunScopeRules(t, startSQLite) }
func TestValidationRulesSQLite(t *testing.T) { servertest.RunValidationRules(t, startSQLite) }
func TestCollectionRulesSQLite(t *testing.T) { servertest.RunCollectionRules(t, startSQLite) }
func TestLostAckRulesSQLite(t *testing.T)    { servertest.RunLostAckRules(t, startSQLite) }
func TestNewRowRulesSQLite(t *testing.T)     { servertest.RunNewRowRules(t, startSQLite) }
