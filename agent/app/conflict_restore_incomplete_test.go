package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// The conflicts page's "restore the record and its edits" clears a
// tombstone: on a row that lacks a field every such record needs, it made
// live a partial household (the check Restore has since 33e5157). The
// replica holds what the server sends of a tombstone row that lacks a
// head's name (servertest's restoredTombstone: a move and a delete that
// came without their refused adding), with the edit the deleting laptop's
// delete hid (agent/hidden.go): pressing the button must say, Vietnamese
// first, why not and what to do, and leave the row deleted and the
// conflict listed.
func TestRestoringADeleteConflictOfAPartialRowIsRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, true)
	hh := uuid.New()
	deleter, editor := uuid.New(), uuid.New()
	now := time.Now().UnixMilli()
	tomb := syncproto.Change{Table: "households", Row: hh, Field: syncproto.TombstoneField, Value: syncproto.Bool(true),
		HLC: syncproto.MakeHLC(now-1000, 0), Dot: syncproto.Dot{Replica: deleter, Seq: 2}, Scope: hamlet1}
	edit := syncproto.Change{Table: "households", Row: hh, Field: "phone", Value: syncproto.String("0912345678"),
		HLC: syncproto.MakeHLC(now-1500, 0), Dot: syncproto.Dot{Replica: editor, Seq: 1}, Scope: hamlet1}
	hidden := syncproto.HiddenEdit(syncproto.VersionOf(&tomb), &edit, hamlet1, syncproto.Dot{Replica: deleter, Seq: 3})
	_, err := h.r.ApplyChanges(ctx, &syncproto.Changes{From: 0, To: 4, Changes: []syncproto.Change{
		{Table: "households", Row: hh, Field: "hamlet_code", Value: syncproto.String(hamlet1),
			HLC: syncproto.MakeHLC(now-2000, 0), Dot: syncproto.Dot{Replica: deleter, Seq: 1}, Scope: hamlet1},
		tomb, edit, hidden,
	}})
	require.NoError(t, err)
	cs, err := h.r.Conflicts(ctx, false)
	require.NoError(t, err)
	require.Len(t, cs, 1, "%+v", cs)
	require.Equal(t, syncproto.TombstoneField, cs[0].Field)
	id := strconv.FormatInt(cs[0].ID, 10)

	_, body := h.get("/sync")
	require.Contains(t, body, "/sync/conflicts/"+id+"/restore")
	require.Contains(t, body, "Khôi phục bản ghi và phần đã sửa")
	status, body, loc := h.post("/sync/conflicts/"+id+"/restore", url.Values{})
	d, err := h.r.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.True(t, d.Deleted, "the restore made live a household without a head's name (status %d, to %q)", status, loc)
	require.Equal(t, http.StatusConflict, status, body)
	require.Contains(t, body, "Không khôi phục được bản ghi")
	require.Contains(t, body, "thêm lại một bản ghi mới", "what to do")
	require.Contains(t, body, `id="conflict-`+id+`"`, "the conflict stays listed")
	cs, err = h.r.Conflicts(ctx, false)
	require.NoError(t, err)
	require.Len(t, cs, 1, "the conflict stays listed")
	require.Nil(t, cs[0].RestoredAt)
	pending, err := h.r.Pending(ctx)
	require.NoError(t, err)
	require.Zero(t, pending, "nothing queued for the server")

	// In English, with the toggle's cookie.
	u, _ := url.Parse(h.base)
	h.c.Jar.SetCookies(u, []*http.Cookie{{Name: "hamlet_lang", Value: "en", Path: "/"}})
	status, body, _ = h.post("/sync/conflicts/"+id+"/restore", url.Values{})
	require.Equal(t, http.StatusConflict, status, body)
	require.Contains(t, body, "cannot be restored")
}
