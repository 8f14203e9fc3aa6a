package agent

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// oldStates writes, in the format of the build before issue 20's (every
// current value in the row state), 1,100 households (more than one chunk
// of restate) and a field report with −0.0, NaN and a field no column
// holds, as another replica's pulled versions, plus one household of this
// laptop edited twice (history).
func oldStates(t *testing.T, r *Replica) {
	t.Helper()
	ctx := context.Background()
	encodeCompactState = true
	defer func() { encodeCompactState = false }()
	other := uuid.New()
	hlc := syncproto.MakeHLC(1_700_000_000_000, 0)
	ver := func(v syncproto.Value, seq uint64) *syncproto.Version {
		return &syncproto.Version{Value: v, HLC: hlc + syncproto.HLC(seq), Dot: syncproto.Dot{Replica: other, Seq: seq}}
	}
	var states []*rowState
	seq := uint64(0)
	for i := range 1100 {
		s := newRowState("households", uuid.New(), "32002-01")
		for f, v := range map[string]syncproto.Value{
			"hamlet_code": syncproto.String("32002-01"), "head_name": syncproto.String(fmt.Sprintf("Nguyễn Văn Hộ %d", i)),
			"members_count": syncproto.Int(int64(1 + i%9)), "active": syncproto.Bool(i%2 == 0), "notes": syncproto.Null(),
		} {
			seq++
			s.cur[f] = ver(v, seq)
		}
		states = append(states, s)
	}
	rep := newRowState("field_reports", uuid.New(), "32002-01")
	for f, v := range map[string]syncproto.Value{
		"hamlet_code": syncproto.String("32002-01"), "description": syncproto.String("Cầu khỉ gãy"),
		"lat": syncproto.Float(math.Copysign(0, -1)), "lng": syncproto.Float(math.NaN()),
		"a_field_no_build_knows": syncproto.String("giữ trong blob"),
	} {
		seq++
		rep.cur[f] = ver(v, seq)
	}
	states = append(states, rep)
	tx, err := r.begin(ctx)
	require.NoError(t, err)
	require.NoError(t, tx.saveMany(states))
	require.NoError(t, tx.commit())

	id, err := r.AddHousehold(ctx, Fields{"hamlet_code": "32002-01", "head_name": "Hộ của máy này", "phone": "0912345678"})
	require.NoError(t, err)
	require.NoError(t, r.EditHousehold(ctx, id, Fields{"phone": "0987654321"}))
	require.NoError(t, r.EditHousehold(ctx, id, Fields{"phone": "0911111111", "members_count": int64(4)}))
}

// toPreviousBuild takes a replica file back to the layout before agent
// migration 8: row_state holds each household's search text (folded) and
// there is no rewrite mark.
func toPreviousBuild(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`DELETE FROM schema_migrations WHERE set_name = 'agent' AND version >= 8;
		DROP TABLE own_away_hist;
		ALTER TABLE photos DROP COLUMN away;
		ALTER TABLE photos DROP COLUMN away_held;
		DELETE FROM agent_meta WHERE key = '` + metaRestate + `';
		ALTER TABLE row_state ADD COLUMN folded TEXT NOT NULL DEFAULT '';
		UPDATE row_state SET folded = (SELECT lower(head_name) FROM households h WHERE h.id = row_state.id) WHERE tbl = 'households'`)
	require.NoError(t, err)
}

// allStates reads every row state, decoded, and its blob.
func allStates(t *testing.T, r *Replica) (map[syncproto.RowID]*rowState, map[syncproto.RowID][]byte) {
	t.Helper()
	ctx := context.Background()
	rows, err := r.db.QueryContext(ctx, `SELECT id, tbl, scope, state FROM row_state`)
	require.NoError(t, err)
	var raws []rawState
	blobs := map[syncproto.RowID][]byte{}
	for rows.Next() {
		var idText, table, scope string
		var blob []byte
		require.NoError(t, rows.Scan(&idText, &table, &scope, &blob))
		id := uuid.MustParse(idText)
		raws = append(raws, rawState{id: id, table: table, scope: scope, blob: blob})
		blobs[id] = blob
	}
	require.NoError(t, rows.Err())
	rows.Close()
	states, err := r.decodeRows(ctx, r.db, raws)
	require.NoError(t, err)
	out := map[syncproto.RowID]*rowState{}
	for _, s := range states {
		out[s.id] = s
	}
	return out, blobs
}

// TestOldReplicaRestatedOnOpen: a replica written by the build before
// issue 20 (every current value in its row states) is rewritten on Open
// by agent migration 8: every state in the current format, the values the
// row table holds exactly left to it, the rest (−0.0, NaN, a field without
// a column, bools, null) kept; every version, history entry and value as
// before; the file checks; and a state whose row-table row is gone is a
// damaged record, not a row with values missing.
func TestOldReplicaRestatedOnOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "replica.db")
	r, err := Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, r.SetEnrollment(ctx, &Enrollment{Server: "http://127.0.0.1:1", MemberID: uuid.NewString(), Scope: []Hamlet{{Code: "32002-01"}}}))
	oldStates(t, r)
	before, oldBlobs := allStates(t, r)
	require.Len(t, before, 1102)
	oldBytes := 0
	for _, b := range oldBlobs {
		require.Equal(t, byte(stateCompact), b[0], "written in the previous format")
		oldBytes += len(b)
	}
	require.NoError(t, r.Close())

	// Back to the previous build's layout: no version 7, and each state
	// with its search text. One household's row table lost its name (a
	// projection gone wrong): the rewrite must keep the state's own copy.
	toPreviousBuild(t, path)
	var stray syncproto.RowID
	for id, s := range before {
		if s.table == "households" && s.str("head_name") != "" {
			stray = id
			break
		}
	}
	db, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	_, err = db.Exec(`UPDATE households SET head_name = 'khác' WHERE id = ?`, stray.String())
	require.NoError(t, err)
	require.NoError(t, db.Close())

	r, err = Open(ctx, path)
	require.NoError(t, err)
	defer r.Close()
	after, blobs := allStates(t, r)
	require.Len(t, after, len(before))
	require.Equal(t, before[stray].str("head_name"), after[stray].str("head_name"), "the state's own copy, not the row table's")
	for id, s := range before {
		require.Equal(t, s, after[id], "%s: every version, history entry and value as before", id)
	}
	require.Contains(t, string(blobs[stray]), before[stray].str("head_name"), "a value the row table does not hold stays in the state")
	_, err = r.db.Exec(`UPDATE households SET head_name = ? WHERE id = ?`, before[stray].str("head_name"), stray.String())
	require.NoError(t, err)
	newBytes := 0
	for id, b := range blobs {
		require.Equal(t, byte(stateColumns), b[0], "%s rewritten", id)
		newBytes += len(b)
		if s := after[id]; s.table == "households" && id != stray {
			require.NotContains(t, string(b), s.str("head_name"), "the name lives in the row table only")
		}
	}
	require.Less(t, newBytes, oldBytes*3/4, "current %d bytes, before %d", newBytes, oldBytes)
	var marked int
	require.NoError(t, r.db.QueryRow(`SELECT count(*) FROM agent_meta WHERE key = ?`, metaRestate).Scan(&marked))
	require.Zero(t, marked, "the rewrite is done")
	require.NoError(t, r.Check(ctx))
	found, err := r.Search(ctx, "nguyen van ho 1099", ListOptions{})
	require.NoError(t, err)
	require.Len(t, found, 1, "search reads the row table")
	require.Equal(t, "Nguyễn Văn Hộ 1099", found[0].Fields["head_name"])
	var folded int
	require.NoError(t, r.db.QueryRow(`SELECT count(*) FROM pragma_table_info('row_state') WHERE name = 'folded'`).Scan(&folded))
	require.Zero(t, folded, "the stored search text is gone")

	for id, s := range after {
		if s.table != "field_reports" {
			continue
		}
		require.True(t, math.Signbit(s.cur["lat"].Value.AsFloat()), "−0.0")
		require.True(t, math.IsNaN(s.cur["lng"].Value.AsFloat()), "NaN")
		require.Equal(t, "giữ trong blob", s.str("a_field_no_build_knows"))
		require.Contains(t, string(blobs[id]), "giữ trong blob")
		require.NotContains(t, string(blobs[id]), "Cầu khỉ gãy")
	}

	// A household whose row-table row is gone: its state no longer has
	// its values, and reading it says so.
	var victim syncproto.RowID
	for id, s := range after {
		if s.table == "households" {
			victim = id
			break
		}
	}
	_, err = r.db.Exec(`DELETE FROM households WHERE id = ?`, victim.String())
	require.NoError(t, err)
	tx, err := r.beginRead(ctx)
	require.NoError(t, err)
	defer tx.rollback()
	_, err = tx.get(victim)
	require.ErrorIs(t, err, errDamagedRecord)
	require.True(t, strings.Contains(err.Error(), "row table holds no value"), err.Error())
}

// TestValueOfAnotherKindStaysInBlob: a value whose kind is not its
// column's (a text in the INTEGER column members_count, which SQLite's
// affinity turns into a number) is kept in the row state, and reads back
// as it was written.
func TestValueOfAnotherKindStaysInBlob(t *testing.T) {
	ctx := context.Background()
	r, err := Open(ctx, filepath.Join(t.TempDir(), "replica.db"))
	require.NoError(t, err)
	defer r.Close()
	s := newRowState("households", uuid.New(), "32002-01")
	rep := uuid.New()
	s.cur["hamlet_code"] = &syncproto.Version{Value: syncproto.String("32002-01"), HLC: 1 << 20, Dot: syncproto.Dot{Replica: rep, Seq: 1}}
	s.cur["members_count"] = &syncproto.Version{Value: syncproto.String("12"), HLC: 1 << 20, Dot: syncproto.Dot{Replica: rep, Seq: 2}}
	tx, err := r.begin(ctx)
	require.NoError(t, err)
	require.NoError(t, tx.save(s))
	require.NoError(t, tx.commit())
	var stored any
	require.NoError(t, r.db.QueryRow(`SELECT members_count FROM households WHERE id = ?`, s.id.String()).Scan(&stored))
	require.Equal(t, int64(12), stored, "SQLite made it a number")
	tx, err = r.beginRead(ctx)
	require.NoError(t, err)
	defer tx.rollback()
	got, err := tx.get(s.id)
	require.NoError(t, err)
	require.Equal(t, syncproto.String("12"), got.cur["members_count"].Value)
	require.Equal(t, syncproto.String("32002-01"), got.cur["hamlet_code"].Value)
}

// TestRepairReadsValuesFromRowTables: a repaired replica keeps every row
// state whole, values included, though the states keep their current
// values in the row tables: repair reads those too. Rows pulled from
// another replica have no change-log entry to be rebuilt from, so a state
// repair could not decode would wait for the re-clone.
func TestRepairReadsValuesFromRowTables(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "replica.db")
	r, err := Open(ctx, path)
	require.NoError(t, err)
	require.NoError(t, r.SetEnrollment(ctx, &Enrollment{Server: "http://127.0.0.1:1", MemberID: uuid.NewString(), Scope: []Hamlet{{Code: "32002-01"}}}))
	encodeCompactState = false
	oldStates(t, r) // written in the current format: encodeCompactState is reset before the local edits
	all, _ := allStates(t, r)
	tx, err := r.begin(ctx)
	require.NoError(t, err)
	var states []*rowState
	for _, s := range all {
		states = append(states, s)
	}
	require.NoError(t, tx.saveMany(states)) // every state in the current format
	require.NoError(t, tx.commit())
	before, blobs := allStates(t, r)
	for id, b := range blobs {
		require.Equal(t, byte(stateColumns), b[0], id)
	}
	require.NoError(t, r.Close())

	require.NoError(t, os.WriteFile(path+".damaged", []byte(`{"reason":"test"}`), 0o600))
	rep, err := Repair(ctx, path, Options{})
	require.NoError(t, err)
	require.Zero(t, rep.Undecodable, "%+v", rep)
	require.False(t, rep.Lost(), "%+v", rep)

	fresh, err := Open(ctx, path)
	require.NoError(t, err)
	defer fresh.Close()
	after, _ := allStates(t, fresh)
	require.Len(t, after, len(before))
	for id, s := range before {
		require.Equal(t, s, after[id], "%s: kept whole by the repair", id)
	}
}
