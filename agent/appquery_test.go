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
	_, err = r.HouseholdEntries(ctx)
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

func TestHouseholdEntries(t *testing.T) {
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

	es, err := r.HouseholdEntries(ctx)
	require.NoError(t, err)
	byID := map[string]agent.HouseholdEntry{}
	for _, e := range es {
		byID[e.ID] = e
	}
	require.Len(t, byID, 3, "the deleted household is not listed")
	require.NotContains(t, byID, gone.String())
	require.Equal(t, agent.HouseholdEntry{ID: an.String(), Hamlet: hamletA, Head: "Nguyễn Văn Đức", Phone: "0912345678", Active: true,
		Folded: "nguyen van duc  0912345678 32002-01"}, byID[an.String()])
	require.False(t, byID[moved.String()].Active)
	require.Contains(t, byID[moved.String()].Folded, "dinh tien hoang")
	require.True(t, byID[unset.String()].Active, "an unset flag counts as active")
}

func TestHouseholdsReachedAndTaught(t *testing.T) {
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
