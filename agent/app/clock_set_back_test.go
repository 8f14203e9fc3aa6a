package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// ba668be: a laptop whose clock was ahead syncs (learns a negative offset),
// then its owner sets the clock right by hand. New records are dated by the
// clock (Today), but the home page's month and the report form's default
// time still add the stale offset (Replica.Now).
// ba668be dated new records by the clock once it was set back by hand
// after a sync measured it ahead, but only Today followed: the home page's
// month, the report form's time and a report's submitted_at still added
// the stale offset, 35 days here (helper 133's review).
func TestClockSetBackHomeMonthAndReportFormFollowTheClock(t *testing.T) {
	t.Parallel()
	la := newLaptopAhead(t)
	la.shift.Store(int64(35 * 24 * time.Hour)) // 35 days ahead: always another month
	la.sync()
	la.shift.Store(0) // set right by hand
	require.True(t, la.l.ClockSetBack())
	now := time.Now().In(i18n.Zone)
	require.Equal(t, now.Format(time.DateOnly), la.l.Today(), "new records are dated by the clock")

	_, home := la.h.get("/")
	assert.Contains(t, home, now.Format("01/2006"), "the home page's month is this month, as records made today are dated")

	_, form := la.h.get("/reports/new")
	assert.Contains(t, form, now.Format("02/01/2006"), "the report form's time defaults to today, as records made today are dated")
}

// ba668be: a report filed after the clock was set back gets submitted_at
// from the stale offset (35 days ago here), while its date fields follow the
// clock.
func TestClockSetBackReportSubmittedAtFollowsTheClock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	la := newLaptopAhead(t)
	la.shift.Store(int64(35 * 24 * time.Hour))
	la.sync()
	la.shift.Store(0)
	require.True(t, la.l.ClockSetBack())
	id, err := la.l.AddReport(ctx, [16]byte{}, map[string]any{"hamlet_code": la.ts.HamletsA[0], "category": "ha_tang_do_thi", "description": "đèn đường hỏng"})
	require.NoError(t, err)
	d, err := la.l.Show(ctx, "field_reports", id.String())
	require.NoError(t, err)
	sub, ok := d.Record.Fields["submitted_at"].(int64)
	require.True(t, ok, "%#v", d.Record.Fields)
	require.WithinDuration(t, time.Now(), time.UnixMilli(sub), time.Hour, "submitted_at follows the clock, as the dates do")
}

// ba668be: ClockSetBack only holds while the clock reads earlier than at
// the sync. A laptop 3 days ahead syncs, is set right by hand; the volunteer
// works offline (dates follow the clock, told so). Three days later
// (simulated here: the laptop's clock, now right, reads 3 days + 1h past the
// test's server) with no sync between, the stale -72h offset applies again
// and a visit made that day is dated 3 days earlier, silently.
func TestClockSetBackIsKeptOnceTheClockPassesTheMeasurement(t *testing.T) {
	t.Parallel()
	la := newLaptopAhead(t)
	la.shift.Store(int64(72 * time.Hour))
	la.sync()
	la.shift.Store(0)
	require.True(t, la.l.ClockSetBack())
	require.Equal(t, time.Now().In(i18n.Zone).Format(time.DateOnly), la.l.Today())
	// three days pass, the clock (right) reads 3 days later
	la.shift.Store(int64(73 * time.Hour))
	want := time.Now().Add(73 * time.Hour).In(i18n.Zone).Format(time.DateOnly)
	require.Equal(t, want, la.l.Today(), "the clock was set right: records made on the laptop's day are dated that day (ClockSetBack=%v)", la.l.ClockSetBack())
}
