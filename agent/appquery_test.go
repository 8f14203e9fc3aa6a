package agent_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/schema"
)

// enrolledHere gives r an enrollment without a server: a member and the
// hamlets 32002-01 and 32002-02.
func enrolledHere(t *testing.T, r *agent.Replica) {
	t.Helper()
	require.NoError(t, r.SetEnrollment(context.Background(), &agent.Enrollment{Server: "http://127.0.0.1:1", MemberID: uuid.NewString(),
		TeamName: "Tổ CNSCĐ Khóm 1", Scope: []agent.Hamlet{{Code: hamletA, Name: "Khóm 1"}, {Code: "32002-02", Name: "Khóm 2"}}}))
}

// The app's indexes are rebuilt when the mark moves: by a write through
// this Replica, and by a write another process (here another handle on
// the same file, as a CLI command is) commits. Reads leave it.
func TestMarkMovesWithEveryWriter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "replica.db")
	r := agenttest.Open(t, path)
	m0, err := r.Mark(ctx)
	require.NoError(t, err)
	id := addHousehold(t, r, "Nguyễn Văn An")
	m1, err := r.Mark(ctx)
	require.NoError(t, err)
	require.NotEqual(t, m0, m1, "a local write moves the mark")
	_, err = r.Show(ctx, "households", id.String())
	require.NoError(t, err)
	_, _, err = r.HouseholdsWritten(ctx, 0)
	require.NoError(t, err)
	m2, err := r.Mark(ctx)
	require.NoError(t, err)
	require.Equal(t, m1, m2, "reads leave the mark")

	other, err := agent.Open(ctx, path)
	require.NoError(t, err)
	_, err = other.AddHousehold(ctx, agent.Fields{"hamlet_code": hamletA, "head_name": "Trần Thị Bình"})
	require.NoError(t, err)
	require.NoError(t, other.Close())
	m3, err := r.Mark(ctx)
	require.NoError(t, err)
	require.NotEqual(t, m2, m3, "another process's write moves the mark")
}

// A reader of the households' writes asks only for what was written
// since the last position it read: a new row, an edit (also of the row
// written last), a delete; a row removed for good lowers the count.
func TestHouseholdsWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := agenttest.New(t)
	an := addHousehold(t, r, "Nguyễn Văn Đức")
	gone := addHousehold(t, r, "Lê Văn Tám")
	moved := addHousehold(t, r, "Phạm Thị Lan")
	require.NoError(t, r.Delete(ctx, "households", gone))
	require.NoError(t, r.EditHousehold(ctx, moved, agent.Fields{"active": false, "address": "Số 5, đường Đinh Tiên Hoàng"}))
	// A household cloned from a teammate who never set the flag.
	unset, err := r.Insert(ctx, "households", agent.Fields{"hamlet_code": "32002-02", "head_name": "Đỗ Thị Hoa"})
	require.NoError(t, err)

	es, w, err := r.HouseholdsWritten(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, 4, w.Rows)
	byID := map[string]agent.HouseholdEntry{}
	var last, sum int64
	for _, e := range es {
		byID[e.ID] = e
		require.Greater(t, e.Pos, last, "in the order of writes")
		last = e.Pos
		sum += e.Pos
	}
	require.Equal(t, sum, w.PosSum)
	require.Len(t, byID, 4)
	require.True(t, byID[gone.String()].Deleted)
	a := byID[an.String()]
	require.Equal(t, agent.HouseholdEntry{Pos: a.Pos, ID: an.String(), Hamlet: hamletA, Head: "Nguyễn Văn Đức", Phone: "0912345678", Active: true}, a)
	require.False(t, byID[moved.String()].Active)
	require.True(t, byID[unset.String()].Active, "an unset flag counts as active")
	require.Equal(t, "nguyen van duc  0912345678 32002-01", agent.FoldHousehold(a.Head, a.Address, a.Phone, a.Hamlet))

	// Nothing written since: nothing to read.
	es, w, err = r.HouseholdsWritten(ctx, last)
	require.NoError(t, err)
	require.Empty(t, es)
	require.Equal(t, agent.Written{Rows: 4, PosSum: sum}, w)
	pos, n2, err := r.LastWritten(ctx, "households")
	require.NoError(t, err)
	require.Equal(t, last, pos)
	require.Equal(t, 4, n2)

	// The row written last, edited again, and an older one: the sum moves
	// by what their positions moved.
	require.NoError(t, r.EditHousehold(ctx, unset, agent.Fields{"phone": "0987654321"}))
	require.NoError(t, r.EditHousehold(ctx, an, agent.Fields{"address": "Khóm 1"}))
	es, w, err = r.HouseholdsWritten(ctx, last)
	require.NoError(t, err)
	require.Len(t, es, 2)
	require.Equal(t, sum-byID[unset.String()].Pos-byID[an.String()].Pos+es[0].Pos+es[1].Pos, w.PosSum)
	require.Equal(t, unset.String(), es[0].ID)
	require.Equal(t, "0987654321", es[0].Phone)
	require.Equal(t, an.String(), es[1].ID)
	require.Equal(t, "Khóm 1", es[1].Address)

	// A new household refused whole and dropped: gone from the table, the
	// count says so.
	drop := addHousehold(t, r, "Trần Văn Bỏ")
	_, err = r.DB().ExecContext(ctx, `UPDATE outbox SET state = 2, code = 'invalid_value', reason = 'x' WHERE row_id = ?`, drop.String())
	require.NoError(t, err)
	rej, err := r.Rejected(ctx)
	require.NoError(t, err)
	// Discarding its hamlet or head discards the household whole
	// (agent.DiscardRejected), what else of it was refused with it.
	for len(rej) > 0 {
		require.NoError(t, r.DiscardRejected(ctx, rej[0].ID))
		rej, err = r.Rejected(ctx)
		require.NoError(t, err)
	}
	_, w, err = r.HouseholdsWritten(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, 4, w.Rows, "the dropped row left the table")
}

// The visits and tutoring records written since a position, with what
// coverage needs of them.
func TestActivityWritten(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := agenttest.New(t)
	enrolledHere(t, r)
	hh := addHousehold(t, r, "Nguyễn Văn An")
	vpos, vn, err := r.LastWritten(ctx, "visits")
	require.NoError(t, err)
	require.Zero(t, vpos)
	require.Zero(t, vn)
	v, err := r.AddVisit(ctx, hh, agent.Fields{"visited_on": "2026-11-03"})
	require.NoError(t, err)
	_, err = r.AddTutoring(ctx, hh, agent.Fields{"skill": "vneid_install", "outcome": "independent", "taught_on": "2026-11-04"})
	require.NoError(t, err)
	as, n, err := r.ActivityWritten(ctx, "visits", vpos)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Len(t, as, 1)
	require.Equal(t, agent.Activity{Pos: as[0].Pos, Household: hh.String(), Hamlet: hamletA, Date: "2026-11-03"}, as[0])
	require.NoError(t, r.Delete(ctx, "visits", v))
	as, _, err = r.ActivityWritten(ctx, "visits", as[0].Pos)
	require.NoError(t, err)
	require.Len(t, as, 1)
	require.True(t, as[0].Deleted)
	as, _, err = r.ActivityWritten(ctx, "tutoring_records", 0)
	require.NoError(t, err)
	require.Len(t, as, 1)
	require.Equal(t, "vneid_install", as[0].Skill)
	require.Equal(t, "2026-11-04", as[0].Date)
	_, _, err = r.ActivityWritten(ctx, "households", 0)
	require.Error(t, err)
	_, _, err = r.LastWritten(ctx, "no_such_table")
	require.Error(t, err)
}

func TestHouseholdsReachedAndTaught(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := agenttest.New(t)
	enrolledHere(t, r)
	visited := addHousehold(t, r, "Nguyễn Văn An")
	tutored := addHousehold(t, r, "Trần Thị Bình")
	lastMonth := addHousehold(t, r, "Lê Văn Cường")
	deletedVisit := addHousehold(t, r, "Phạm Văn Dũng")
	other, err := r.AddHousehold(ctx, agent.Fields{"hamlet_code": "32002-02", "head_name": "Đỗ Thị Em"})
	require.NoError(t, err)

	_, err = r.AddVisit(ctx, visited, agent.Fields{"visited_on": "2026-11-03"})
	require.NoError(t, err)
	_, err = r.AddTutoring(ctx, tutored, agent.Fields{"skill": "vneid_install", "outcome": "needs_help", "taught_on": "2026-11-30"})
	require.NoError(t, err)
	_, err = r.AddVisit(ctx, lastMonth, agent.Fields{"visited_on": "2026-10-31"})
	require.NoError(t, err)
	v, err := r.AddVisit(ctx, deletedVisit, agent.Fields{"visited_on": "2026-11-10"})
	require.NoError(t, err)
	require.NoError(t, r.Delete(ctx, "visits", v))
	_, err = r.AddVisit(ctx, other, agent.Fields{"visited_on": "2026-11-10"})
	require.NoError(t, err)

	got, err := r.HouseholdsReached(ctx, []string{hamletA}, "2026-11-01", "2026-11-30")
	require.NoError(t, err)
	require.Equal(t, map[string]bool{visited.String(): true, tutored.String(): true}, got)
	got, err = r.HouseholdsReached(ctx, []string{hamletA, "32002-02"}, "2026-11-01", "2026-11-30")
	require.NoError(t, err)
	require.Len(t, got, 3)
	got, err = r.HouseholdsReached(ctx, nil, "2026-11-01", "2026-11-30")
	require.NoError(t, err)
	require.Empty(t, got)

	got, err = r.HouseholdsTaught(ctx, "vneid_install")
	require.NoError(t, err)
	require.Equal(t, map[string]bool{tutored.String(): true}, got)
	got, err = r.HouseholdsTaught(ctx, "ehealth_record")
	require.NoError(t, err)
	require.Empty(t, got)
}

// A visit with two skills is one transaction: a bad skill record saves
// nothing, not even the visit; a good form saves the visit and both
// skills, dated with the visit.
func TestAddVisitWithTutoringIsAllOrNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := agenttest.New(t)
	enrolledHere(t, r)
	hh := addHousehold(t, r, "Nguyễn Văn An")
	before, err := r.Pending(ctx)
	require.NoError(t, err)

	_, _, err = r.AddVisitWithTutoring(ctx, hh, agent.Fields{"visited_on": "2026-11-03", "notes": "cài VNeID"}, []agent.Fields{
		{"skill": "vneid_install", "outcome": "independent"},
		{"skill": "vneid_install", "outcome": "gioi"},
	})
	var ve *schema.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "outcome", ve.Field)
	_, _, err = r.AddVisitWithTutoring(ctx, hh, agent.Fields{}, []agent.Fields{{"skill": "bay", "outcome": "independent"}})
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "skill", ve.Field)
	after, err := r.Pending(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after, "nothing was queued")
	d, err := r.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Empty(t, d.Visits)
	require.Empty(t, d.Tutoring)

	vid, tids, err := r.AddVisitWithTutoring(ctx, hh, agent.Fields{"visited_on": "2026-11-03", "notes": "cài VNeID"}, []agent.Fields{
		{"skill": "vneid_install", "outcome": "independent"},
		{"skill": "ehealth_record", "outcome": "needs_help", "person_name": "Bà Tư"},
	})
	require.NoError(t, err)
	require.Len(t, tids, 2)
	d, err = r.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Len(t, d.Visits, 1)
	require.Equal(t, vid.String(), d.Visits[0].ID)
	require.Len(t, d.Tutoring, 2)
	for _, tr := range d.Tutoring {
		require.Equal(t, "2026-11-03", tr.Fields["taught_on"], "the visit's date")
		require.Equal(t, hamletA, tr.Hamlet)
		require.NotEmpty(t, tr.Fields["volunteer_id"])
	}
	// Without a date the visit is today's, by the corrected clock.
	_, _, err = r.AddVisitWithTutoring(ctx, hh, agent.Fields{}, []agent.Fields{{"skill": "ehealth_record", "outcome": "independent"}})
	require.NoError(t, err)
	d, err = r.Show(ctx, "households", hh.String())
	require.NoError(t, err)
	require.Equal(t, r.Today(), d.Visits[0].Fields["visited_on"])
	require.Equal(t, schema.Today(time.Now()), r.Today())
	require.WithinDuration(t, time.Now(), r.Now(), time.Minute)

	_, _, err = r.AddVisitWithTutoring(ctx, uuid.New(), agent.Fields{}, nil)
	require.ErrorIs(t, err, agent.ErrNotFound)
}
