package agent

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/versions"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestNewStateIsRowStateEncode: the import writes a new row's state and
// projection straight from its versions (newState); they must be the bytes
// and values rowState.encode and projectArgs give for the same row, with
// values the row table holds, and those it does not hold exactly (a kind
// that is not the column's, −0.0, NaN, infinities, null, bools, a field
// without a column), so every reader decodes imported rows as before. The
// projection binds the check's boxed value only where it is the value.
func TestNewStateIsRowStateEncode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := Open(ctx, filepath.Join(t.TempDir(), "replica.db"))
	require.NoError(t, err)
	defer r.Close()
	rng := rand.New(rand.NewPCG(20, 20))
	values := func(f string) syncproto.Value {
		switch rng.IntN(9) {
		case 0:
			return syncproto.Null()
		case 1:
			return syncproto.Bool(rng.IntN(2) == 0)
		case 2:
			return syncproto.Int(rng.Int64N(100) - 50)
		case 3:
			return syncproto.Float(rng.NormFloat64() * 1e3)
		case 4:
			return syncproto.Float([]float64{math.Copysign(0, -1), math.NaN(), math.Inf(1), 0, 12}[rng.IntN(5)])
		case 5:
			return syncproto.String(fmt.Sprint(rng.IntN(100))) // text in a number column: SQLite would convert it
		default:
			return syncproto.String(fmt.Sprintf("Nguyễn Văn %s %d", f, rng.Int()))
		}
	}
	for i := range 2000 {
		table := []string{"households", "tutoring_records", "field_reports", "visits"}[i%4]
		cols := r.cols[table]
		require.NotEmpty(t, cols, table)
		names := append([]string{"hamlet_code", "a_field_no_build_knows", syncproto.TombstoneField}, cols...)
		id := uuid.New()
		st := newRowState(table, id, "")
		ns := &newState{rep: r.id, kinds: r.colKinds[table]}
		hlc := syncproto.MakeHLC(1_700_000_000_000+rng.Int64N(1e6), 0)
		seq := rng.Uint64N(1 << 30)
		for _, f := range names {
			if _, dup := st.cur[f]; dup || rng.IntN(3) == 0 {
				continue
			}
			seq++
			hlc += syncproto.HLC(rng.IntN(3))
			v := syncproto.Version{Value: values(f), HLC: hlc, Dot: syncproto.Dot{Replica: r.id, Seq: seq}}
			st.install(f, v)
			ns.cur = append(ns.cur, versions.FieldVersion{Field: f, Version: v})
			// The value as the check boxed it, or not known, or (a
			// mistake the projection must not take) another value.
			ns.raw = append(ns.raw, []any{v.Value.Any(), nil, "khác", int64(7), 7.5, v.Value.Any()}[rng.IntN(6)])
		}
		ns.sort()
		want, err := st.encode(r.stored(st))
		require.NoError(t, err)
		got, err := ns.append([]byte("xy"), ns.stored)
		require.NoError(t, err)
		require.Equal(t, append([]byte("xy"), want...), got, "case %d (%s)", i, table)

		at := map[string]int{}
		for k, c := range cols {
			at[c] = k
		}
		wantArgs := st.projectArgs(cols, nil)
		require.Equal(t, floatBits(wantArgs), floatBits(ns.projectArgs(nil, id.String(), cols, at)), "case %d", i)
	}
}

// floatBits is args with each float as its bits (NaN is not equal to NaN).
func floatBits(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if f, ok := a.(float64); ok {
			a = fmt.Sprintf("float %#x", math.Float64bits(f))
		}
		out[i] = a
	}
	return out
}

// hamletKey's fast path gives what folding, splitting on white space and
// joining with one space give.
func TestHamletKeyIsFieldsJoined(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", " ", "Ấp Tân  Thành", "ap tan thanh", " ap", "ap ", "a\tb", "a\u00a0b", "a\u2003b",
		"Nguyễn Văn Một", "x", "  x  y  ", "a\nb", "a\rb", "a\vb", "a\fb", "Khóm 1", "a  b"} {
		require.Equal(t, strings.Join(strings.Fields(Fold(s)), " "), hamletKey(s), "%q", s)
	}
}
