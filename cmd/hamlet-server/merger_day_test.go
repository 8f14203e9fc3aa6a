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

// unit add-hamlets on a retired commune (an old code, as the officer
// still remembers it) re-creates the hamlets the merger moved away, and
// silently moves them back under the retired unit.
func TestMergerAddHamletsOnRetiredCommunePullsHamletsBack(t *testing.T) {
	st := mergerStore(t)
	st.ok(t, "units", "reorganise")
	require.Equal(t, "32002", hamletParents(t, st)["32005-01"])
	code, out, errOut := st.cli(t, "unit", "add-hamlets", "--commune", "32005", "--count", "3")
	t.Logf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	require.Equal(t, "32002", hamletParents(t, st)["32005-01"], "a hamlet of An Xuyên stays in An Xuyên")
	require.NotEqual(t, 0, code, "adding hamlets to a retired commune is refused")
}

func writeFile(t *testing.T, name, body string) string {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
	return p
}

// Renaming a moved khóm after the merger (unit add-hamlets --file is the
// way to give hamlets their names) moves it back under retired Phường 1.
func TestMergerRenameMovedHamletPullsItBack(t *testing.T) {
	st := mergerStore(t)
	st.ok(t, "units", "reorganise")
	require.Equal(t, "32002", hamletParents(t, st)["32005-01"])
	f := writeFile(t, "h.csv", "code,name,type\n32005-01,Khóm Cây Trâm,khom\n")
	code, out, errOut := st.cli(t, "unit", "add-hamlets", "--file", f)
	t.Logf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	require.Equal(t, "32002", hamletParents(t, st)["32005-01"], "renamed, the khóm stays in An Xuyên")
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
	require.Contains(t, errOut, "ấp/khóm 32005-01 nay thuộc xã/phường 32002 (phường An Xuyên), không thuộc 32005")
	require.Contains(t, errOut, "hãy lập tổ với --commune 32002") // 32005 is retired (TestMergerRetiredCommuneAdviceLeadsOn)
	code, _, errOut = st.cli(t, "team", "create", "--commune", "32008", "--name", "Tổ B", "--hamlets", "32002-01", "--lang", "en")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "hamlet 32002-01 is not in commune 32008 (it is in commune 32002)") // 32008 went to 32025, not to 32002
	code, _, errOut = st.cli(t, "team", "create", "--commune", "99999", "--name", "Tổ B", "--hamlets", "32002-01")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "không có xã/phường 99999")
}

// After the merger: a new hamlet in a hamlets file whose code names the
// retired Phường 1 is refused (in English too) and nothing changes; an
// unknown commune is told as such; and add-hamlets on An Xuyên adds codes
// under 32002, leaving the moved khóm as they are.
func TestMergerAddHamletsAfterTheMerger(t *testing.T) {
	st := mergerStore(t)
	st.ok(t, "units", "reorganise")
	before := hamletParents(t, st)
	f := writeFile(t, "h.csv", "code,name,type\n32005-01,Khóm Cây Trâm,khom\n32005-07,Khóm 7,khom\n")
	code, _, errOut := st.cli(t, "unit", "add-hamlets", "--file", f, "--lang", "en")
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "hamlet 32005-07 cannot be added")
	require.Contains(t, errOut, "hamlet-server unit add-hamlets --commune 32002")
	require.Equal(t, before, hamletParents(t, st), "nothing changed")

	code, _, errOut = st.cli(t, "unit", "add-hamlets", "--file", writeFile(t, "h.csv", "code,name\n99999-01,Ấp 1\n"))
	require.Equal(t, 1, code, errOut)
	require.Contains(t, errOut, "không có xã/phường 99999")

	out := st.ok(t, "unit", "add-hamlets", "--commune", "32002", "--count", "3")
	require.Contains(t, out, "32002-03")
	after := hamletParents(t, st)
	require.Equal(t, "32002", after["32002-03"])
	require.Equal(t, "32002", after["32005-01"])
	require.Equal(t, len(before)+1, len(after))
}

// Helper 156: after the merger, team create --commune 32005 (retired)
// was told to see unit list --commune 32005, which said to add hamlets
// there, which is refused: the advice went round. Both now say the
// commune was merged, since when, and into which.
func TestMergerRetiredCommuneAdviceLeadsOn(t *testing.T) {
	st := mergerStore(t)
	st.ok(t, "units", "reorganise")
	t.Setenv("HAMLET_LANG", "en")
	code, _, errOut := st.cli(t, "team", "create", "--commune", "32005", "--name", "B", "--hamlets", "32005-01")
	require.NotZero(t, code)
	require.NotContains(t, errOut, "unit list --commune 32005")
	require.Contains(t, errOut, "was reorganised (merged) on")
	require.Contains(t, errOut, "--commune 32002")
	out := st.ok(t, "unit", "list", "--commune", "32005")
	require.NotContains(t, out, "add-hamlets --commune 32005")
	require.Contains(t, out, "32002")
}

// Helper 160's review of 87fa727: the note was added whenever the named
// commune is retired, even for a hamlet that never was in it: 32053-02
// (of Nguyễn Phích, split; now Khánh Lâm's) named with 32005 (Phường 1,
// merged into An Xuyên) was told to go to Khánh Lâm beside a note about
// An Xuyên. The note is only for a hamlet whose commune took the area.
func TestMergerRetiredNoteOnlyForItsOwnHamlets(t *testing.T) {
	st := mergerStore(t)
	st.ok(t, "unit", "add-hamlets", "--commune", "32053", "--count", "2")
	mv := writeFile(t, "mv.csv", "hamlet_code,commune_code\n32053-01,32044\n32053-02,32062\n")
	st.ok(t, "units", "reorganise", "--hamlets", mv)
	t.Setenv("HAMLET_LANG", "en")
	_, _, errOut := st.cli(t, "team", "create", "--commune", "32005", "--name", "C", "--hamlets", "32053-02")
	require.NotContains(t, errOut, "its area now in 32002", errOut)
	require.Contains(t, errOut, "hamlet 32053-02 is not in commune 32005 (it is in commune 32062)")
	_, _, errOut = st.cli(t, "team", "create", "--commune", "32005", "--name", "C", "--hamlets", "32005-01")
	require.Contains(t, errOut, "not in 32005. Commune 32005 (Phường 1) was reorganised", "a sentence starts with a capital")
	out := st.ok(t, "unit", "list", "--commune", "32005")
	require.NotContains(t, out, "NAME", "no empty table before the note")
}
