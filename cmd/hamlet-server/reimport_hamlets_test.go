package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
)

// The 2025 merger moved Phường 1's khóm (32005-NN) to An Xuyên (32002),
// keeping their codes. Hamlet rows imported again afterwards through
// Admin.ImportUnits, as examples/camau/loader does with the 2022 tree's
// hamlets, may rename them but must leave them where the merger put them:
// otherwise they go back to a retired commune, out of An Xuyên's figures
// and of its leader's view.
func TestImportUnitsKeepsHamletsCommune(t *testing.T) {
	for _, kind := range bothStores() {
		t.Run(kind, func(t *testing.T) {
			st := newOperatorStore(t, kind)
			st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
			st.ok(t, "unit", "add-hamlets", "--commune", "32005", "--count", "2")
			st.ok(t, "units", "reorganise")

			srv, _, stop := st.open(t)
			require.NoError(t, srv.Admin().ImportUnits(context.Background(), []schema.AdminUnit{
				{Code: "32005-01", Name: "Khóm Một", Type: "khom", Level: schema.LevelHamlet, ParentCode: "32005"},
				{Code: "32005-02", Name: "Khóm 2", Type: "khom", Level: schema.LevelHamlet, ParentCode: "32005"},
			}))
			stop()

			var hamlets []schema.AdminUnit
			require.NoError(t, json.Unmarshal([]byte(st.ok(t, "unit", "list", "--commune", "32002", "--json")), &hamlets))
			names := map[string]string{}
			for _, h := range hamlets {
				names[h.Code] = h.Name
			}
			require.Equal(t, map[string]string{"32005-01": "Khóm Một", "32005-02": "Khóm 2"}, names,
				"the khóm stay in An Xuyên, renamed")
		})
	}
}
