package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/sqlitestore"
)

// mergerStore: the 2022 tree, two hamlets in Phường 4 (32002) and two in
// Phường 1 (32005, part of An Xuyên 32002 from 2025-07-01).
func mergerStore(t *testing.T) *operatorStore {
	st := newOperatorStore(t, "sqlite")
	st.ok(t, "units", "import", "--file", dataFile(t, "camau-2022.csv"), "--format", "2022")
	st.ok(t, "unit", "add-hamlets", "--commune", "32002", "--count", "2")
	st.ok(t, "unit", "add-hamlets", "--commune", "32005", "--count", "2")
	return st
}

func hamletParents(t *testing.T, st *operatorStore) map[string]string {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(st.dir, sqlitestore.DBFile))
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.Query(`SELECT code, parent_code FROM admin_units WHERE level = 'hamlet'`)
	require.NoError(t, err)
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var c, p string
		require.NoError(t, rows.Scan(&c, &p))
		m[c] = p
	}
	return m
}

// After the merger, Phường 1's khóm belong to An Xuyên (32002). The officer
// makes a new team for An Xuyên covering one of them: refused, with a
// message that contradicts unit list.
func TestMergerTeamCreateForMovedHamlet(t *testing.T) {
	st := mergerStore(t)
	st.ok(t, "units", "reorganise")
	list := st.ok(t, "unit", "list", "--commune", "32002")
	require.Contains(t, list, "32005-01", "unit list shows 32005-01 in An Xuyên")
	code, _, errOut := st.cli(t, "team", "create", "--commune", "32002", "--name", "Tổ CNTS khóm 1 cũ", "--hamlets", "32005-01")
	require.Equal(t, 0, code, "a team of An Xuyên may cover a hamlet of An Xuyên: %s", errOut)
}

func writeFile(t *testing.T, name, body string) string {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

// After the merger a hamlet's commune is its parent: a team of the
// retired Phường 1 (or of another commune) is refused 32005-01, told where
// the khóm now is, in either language; and a team the reorganisation moved
// to An Xuyên may be given the other moved khóm.
func TestMergerTeamHamletOfAnotherCommuneByParent(t *testing.T) {
	st := mergerStore(t)
	team := st.ok(t, "team", "create", "--commune", "32005", "--name", "Tổ khóm 1", "--hamlets", "32005-01", "--json")
	var tm struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(team), &tm))
	st.ok(t, "units", "reorganise")
	st.ok(t, "team", "add-hamlet", "--team", tm.ID, "--hamlet", "32005-02")
	st.ok(t, "team", "add-hamlet", "--team", tm.ID, "--hamlet", "32002-01")

	code, _, errOut := st.cli(t, "team", "create", "--commune", "32005", "--name", "Tổ B", "--hamlets", "32005-01")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "ấp/khóm 32005-01 không thuộc xã/phường 32005 (ấp/khóm này thuộc xã/phường 32002)")
	require.Contains(t, errOut, "hamlet-server unit list --commune 32005")
	code, _, errOut = st.cli(t, "team", "create", "--commune", "32008", "--name", "Tổ B", "--hamlets", "32002-01", "--lang", "en")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "hamlet 32002-01 is not in commune 32008 (it is in commune 32002)")
	code, _, errOut = st.cli(t, "team", "create", "--commune", "99999", "--name", "Tổ B", "--hamlets", "32002-01")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "không có xã/phường 99999")
}
