package pgstore_test

import (
	"errors"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

// Operator text that is not UTF-8 or carries a NUL or a control character
// (a units CSV Excel saved in Windows-1258) was stored as it was on SQLite
// and failed PostgreSQL with its raw SQLSTATE 22021 (helper 131). Both
// stores now refuse it the same way, before the store.
func TestOperatorTextIsRefusedAlikeOnBothStores(t *testing.T) {
	for store, ts := range bothStores(t) {
		a := ts.Admin
		for _, name := range []string{"X\xe3 T\xe2n", "Xã\x00Tân", "Xã\tTân"} {
			units := schema.EmbeddedUnits2025()
			for i := range units {
				if units[i].Level == schema.LevelCommune {
					units[i].Name = name
					break
				}
			}
			err := a.ImportUnits(ctx, units)
			var ve *schema.ValidationError
			require.True(t, errors.As(err, &ve), "%s: units import %s: %v", store, strconv.Quote(name), err)
			require.Equal(t, "name", ve.Field, store)
		}
		_, err := a.AddUser(ctx, server.NewUser{Username: "hoa.nguyen", DisplayName: "Nguy\xeanx Hoa", Role: analytics.RoleProvincial,
			UnitCode: schema.ProvinceCodeCaMau, Password: "mật khẩu dài đủ"})
		require.ErrorContains(t, err, "UTF-8", store)
		require.NotContains(t, err.Error(), "SQLSTATE", store)
	}
}
