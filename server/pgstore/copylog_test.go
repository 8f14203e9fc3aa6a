package pgstore

import (
	"context"
	"math"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/pgstore/pgtest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// The binary COPY of log rows (logCopy) stores every value kind exactly as
// encodeValue does, which is what ReadLog decodes.
func TestLogCopyStoresWhatEncodeValueDoes(t *testing.T) {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.FreshDB(t))
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE TEMP TABLE sync_log (seq BIGINT PRIMARY KEY, kind SMALLINT NOT NULL, scope TEXT NOT NULL, tbl TEXT NOT NULL,
		row BYTEA NOT NULL, field TEXT NOT NULL, vkind SMALLINT NOT NULL, val BYTEA, hlc BIGINT NOT NULL, origin BIGINT NOT NULL,
		oseq BIGINT NOT NULL, base_origin BIGINT NOT NULL, base_seq BIGINT NOT NULL, new_scope TEXT)`)
	require.NoError(t, err)

	values := []syncproto.Value{syncproto.Null(), syncproto.Bool(true), syncproto.Bool(false), syncproto.Int(-7), syncproto.Int(math.MaxInt64),
		syncproto.Float(-0.5), syncproto.Float(math.Inf(1)), syncproto.String(""), syncproto.String("Nguyễn Văn Á")}
	var l logCopy
	moved := "00002"
	for i, v := range values {
		c := syncproto.Change{Table: "households", Row: syncproto.RowID{byte(i), 9}, Field: "notes", Value: v, HLC: syncproto.HLC(1<<40 + i),
			Dot: syncproto.Dot{Seq: uint64(10 + i)}, Base: syncproto.Dot{Seq: uint64(i)}, Scope: "00001"}
		var ns *string
		if i == 0 {
			ns = &moved
		}
		l.add(int64(i+1), int16(i%2), &c, 3, int64(i), ns)
	}
	require.NoError(t, l.send(ctx, conn.PgConn()))
	require.Zero(t, l.n, "sent rows are dropped")

	rows, err := conn.Query(ctx, `SELECT seq, kind, scope, tbl, row, field, vkind, val, hlc, origin, oseq, base_origin, base_seq, new_scope FROM sync_log ORDER BY seq`)
	require.NoError(t, err)
	defer rows.Close()
	i := 0
	for rows.Next() {
		var seq, hlc, origin, oseq, bo, bs int64
		var kind, vkind int16
		var scope, tbl, field string
		var row, val []byte
		var ns *string
		require.NoError(t, rows.Scan(&seq, &kind, &scope, &tbl, &row, &field, &vkind, &val, &hlc, &origin, &oseq, &bo, &bs, &ns))
		wk, wv := encodeValue(values[i])
		require.Equal(t, wk, vkind, "value %d", i)
		require.Equal(t, wv, val, "value %d", i)
		got, err := decodeValue(vkind, val)
		require.NoError(t, err)
		require.True(t, got.Equal(values[i]), "value %d: %v", i, got)
		require.Equal(t, []any{int64(i + 1), int16(i % 2), "00001", "households", "notes", int64(1<<40 + i), int64(3), int64(10 + i), int64(i), int64(i)},
			[]any{seq, kind, scope, tbl, field, hlc, origin, oseq, bo, bs})
		require.Equal(t, []byte{byte(i), 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, row)
		if i == 0 {
			require.Equal(t, &moved, ns)
		} else {
			require.Nil(t, ns)
		}
		i++
	}
	require.NoError(t, rows.Err())
	require.Equal(t, len(values), i)
}
