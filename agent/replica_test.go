package agent_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

const hamletA = "32002-01"

func addHousehold(t *testing.T, r *agent.Replica, head string) uuid.UUID {
	t.Helper()
	id, err := r.AddHousehold(context.Background(), agent.Fields{"hamlet_code": hamletA, "head_name": head, "phone": "0912345678"})
	require.NoError(t, err)
	return id
}

func TestReplicaIDKept(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "r.db")
	r, err := agent.Open(context.Background(), path)
	require.NoError(t, err)
	id := r.ID()
	require.NoError(t, r.Close())
	r2 := agenttest.Open(t, path)
	require.Equal(t, id, r2.ID())
}

func TestWriteQueuesEveryField(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := agenttest.New(t)
	id := addHousehold(t, r, "Nguyễn Văn Đức")
	n, err := r.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, 5, n, "hamlet, head, phone, active, registered_on")

	require.NoError(t, r.EditHousehold(ctx, id, agent.Fields{"phone": "0912345678"}))
	n, _ = r.Pending(ctx)
	require.Equal(t, 5, n, "an unchanged value makes no change")

	require.NoError(t, r.EditHousehold(ctx, id, agent.Fields{"members_count": int64(4), "phone": "+84 90 111 2222"}))
	d, err := r.Show(ctx, "households", id.String())
	require.NoError(t, err)
	require.Equal(t, "0901112222", d.Fields["phone"])
	require.Equal(t, int64(4), d.Fields["members_count"])
	var phone agent.FieldHistory
	for _, h := range d.History {
		if h.Field == "phone" {
			phone = h
		}
	}
	require.Len(t, phone.Versions, 2)
	require.Equal(t, "0912345678", phone.Versions[0].Value)
	require.True(t, phone.Versions[1].Current)
	require.True(t, phone.Versions[1].Pending)
}

func TestSearchIgnoresDiacritics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := agenttest.New(t)
	addHousehold(t, r, "Nguyễn Văn Đức")
	addHousehold(t, r, "Trần Thị Hoa")
	tests := []struct {
		q    string
		want int
	}{
		{"duc", 1}, {"ĐỨC", 1}, {"nguyen van", 1}, {"Nguyễn", 1}, {"hoa", 1}, {"tran hoa", 1},
		{"0912", 2}, {"32002-01", 2}, {"xyz", 0}, {"%", 0}, {"", 2},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			got, err := r.Search(ctx, tt.q, agent.ListOptions{})
			require.NoError(t, err)
			require.Len(t, got, tt.want)
		})
	}
}

func TestBadInputLeavesReplicaIntact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := agenttest.New(t)
	hh := addHousehold(t, r, "Lê Văn A")
	before, _ := r.Pending(ctx)
	tests := []struct {
		name string
		do   func() error
		vi   string
	}{
		{"empty head", func() error {
			_, err := r.AddHousehold(ctx, agent.Fields{"hamlet_code": hamletA, "head_name": "  "})
			return err
		}, "Chưa nhập tên chủ hộ"},
		{"bad phone", func() error {
			return r.EditHousehold(ctx, hh, agent.Fields{"phone": "12345"})
		}, "Số điện thoại không hợp lệ"},
		{"unknown skill", func() error {
			_, err := r.AddTutoring(ctx, hh, agent.Fields{"skill": "juggling", "outcome": "independent", "volunteer_id": uuid.NewString()})
			return err
		}, "không có trong danh mục"},
		{"unknown household", func() error {
			_, err := r.AddVisit(ctx, uuid.New(), agent.Fields{"volunteer_id": uuid.NewString()})
			return err
		}, "Không tìm thấy hộ gia đình"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			require.Error(t, err)
			require.Contains(t, agent.MessageOf(err, "vi"), tt.vi)
			require.NotEmpty(t, agent.MessageOf(err, "en"))
			n, _ := r.Pending(ctx)
			require.Equal(t, before, n)
		})
	}
}

func TestCorruptAndForeignFilesUntouched(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	r, err := agent.Open(context.Background(), good)
	require.NoError(t, err)
	addHousehold(t, r, "Lê Văn B")
	require.NoError(t, r.Close())
	goodBytes, err := os.ReadFile(good)
	require.NoError(t, err)

	foreignSQLite := filepath.Join(dir, "foreign.db")
	{
		db, err := agent.Open(context.Background(), filepath.Join(dir, "tmp.db"))
		require.NoError(t, err)
		db.Close()
	}
	// A SQLite file made by someone else: a table, no application id.
	require.NoError(t, os.WriteFile(foreignSQLite, foreignDB(t), 0o600))

	corrupt := append([]byte(nil), goodBytes...)
	for i := 4096; i < len(corrupt) && i < 4096*3; i++ {
		corrupt[i] ^= 0x5a
	}
	// Both in WAL mode with nothing beside them, as a replica closed
	// cleanly is: Open looks at them through its own connection
	// (lookThrough), which must leave them as they are too.
	require.Equal(t, []byte{2, 2}, goodBytes[18:20], "a replica closed in WAL mode")
	badID := filepath.Join(dir, "badid.db")
	require.NoError(t, os.WriteFile(badID, goodBytes, 0o600))
	{
		db, err := sqlOpen(badID)
		require.NoError(t, err)
		_, err = db.Exec(`UPDATE agent_meta SET value = 'không phải mã' WHERE key = 'replica_id'`)
		require.NoError(t, err)
		require.NoError(t, db.Close())
	}
	badIDBytes, err := os.ReadFile(badID)
	require.NoError(t, err)
	tests := []struct {
		name string
		data []byte
		kind error
	}{
		{"text file", []byte("household,head\n1,Nguyễn\n"), agent.ErrForeign},
		{"foreign sqlite", nil, agent.ErrForeign},
		{"truncated", goodBytes[:10], agent.ErrCorrupt},
		{"garbled pages", corrupt, agent.ErrCorrupt},
		{"replica id not an id", badIDBytes, agent.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := foreignSQLite
			if tt.data != nil {
				path = filepath.Join(t.TempDir(), "x.db")
				require.NoError(t, os.WriteFile(path, tt.data, 0o600))
			}
			before, err := os.ReadFile(path)
			require.NoError(t, err)
			_, err = agent.Open(context.Background(), path)
			require.Error(t, err)
			require.True(t, errors.Is(err, tt.kind), "%v", err)
			var fe *agent.FileError
			require.ErrorAs(t, err, &fe)
			require.NotEmpty(t, fe.Message("vi"))
			after, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, before, after, "file must be left untouched")
		})
	}
}

func TestApplyIsIdempotentAndRecordsConflicts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := agenttest.New(t)
	hh := addHousehold(t, r, "Lê Văn C")
	cur, err := r.Snapshot(ctx)
	require.NoError(t, err)
	headVer := cur[syncproto.FieldKey{Table: "households", Row: hh, Field: "head_name"}]
	other := uuid.New()
	// A concurrent write from another replica, stamped later: it wins.
	in := &syncproto.Changes{From: 0, To: 7, Changes: []syncproto.Change{
		{Table: "households", Row: hh, Field: "head_name", Value: syncproto.String("Lê Văn Cường"), HLC: headVer.HLC + 10,
			Dot: syncproto.Dot{Replica: other, Seq: 1}, Scope: hamletA},
		{Table: "households", Row: hh, Field: "future_field", Value: syncproto.Float(1.5), HLC: headVer.HLC + 11,
			Dot: syncproto.Dot{Replica: other, Seq: 2}, Scope: hamletA},
	}}
	for i := 0; i < 2; i++ {
		_, err := r.ApplyChanges(ctx, in)
		require.NoError(t, err)
	}
	cs, err := r.Conflicts(ctx, false)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.Equal(t, "Lê Văn C", cs[0].Loser.Value)
	require.True(t, cs[0].Loser.Mine)
	require.Equal(t, "Lê Văn Cường", cs[0].Winner.Value)

	d, err := r.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, 1.5, d.Fields["future_field"], "unknown fields kept with their kind")

	_, err = r.RestoreConflict(ctx, cs[0].ID)
	require.NoError(t, err)
	d, _ = r.Show(ctx, "households", hh.String())
	require.Equal(t, "Lê Văn C", d.Fields["head_name"])
	cs, _ = r.Conflicts(ctx, false)
	require.Empty(t, cs)
}

func foreignDB(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.db")
	db, err := sqlOpen(path)
	require.NoError(t, err)
	_, err = db.Exec(`CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'x')`)
	require.NoError(t, err)
	require.NoError(t, db.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return b
}
