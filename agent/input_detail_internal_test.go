package agent

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
)

// Every InputError the agent builds from what a volunteer typed quotes it
// in the message she reads and never in Error(), which logs and
// hamlet-agent --json's "detail" keep: a value typed into the wrong place
// may be a name, a phone or an ID number. Error() names the table and
// field (or what was asked for) and the value's form.
func TestInputErrorDetailHoldsNoInput(t *testing.T) {
	t.Parallel()
	const cccd, name = "079123456789", "Trần Thị Hoa"
	hh, _ := schema.LookupTable("households")
	parse := func(table, field, text string) func() error {
		return func() error { _, err := ParseFieldValue(table, field, text); return err }
	}
	for _, c := range []struct {
		name, private, detail string
		build                 func() error
		quoted                bool // the message she reads quotes the input
	}{
		{"an ID number as a date", cccd, "households.registered_on: not a date as people write it (12 digits)", parse("households", "registered_on", cccd), true},
		{"a name as a date", name, "visits.visited_on: not a date as people write it (12 characters)", parse("visits", "visited_on", name), true},
		{"an ID number as a date and time", cccd, "field_reports.occurred_at: not a date and time as people write it (12 digits)", parse("field_reports", "occurred_at", cccd), true},
		{"a name as a category", name, "field_reports.category: not a " + schema.EnumReportCategory + " (12 characters)", parse("field_reports", "category", name), true},
		{"a name as yes or no", name, "households.has_smartphone: not yes or no (12 characters)", parse("households", "has_smartphone", name), false},
		{"a name as a field", name, "households: no such field (12 characters)", parse("households", name, "1"), true},
		{"a name as an import column's field", name, "households: no such field (12 characters)", func() error {
			_, _, err := mapColumns(hh, [][]string{{"Họ tên chủ hộ"}}, map[string]string{"Họ tên chủ hộ": name})
			return err
		}, true},
		{"another volunteer's id", "7d1c2f0e", "visits.volunteer_id: given a value other than the one derived", func() error {
			return keepDerived("visits", Fields{"volunteer_id": "7d1c2f0e-9a43-4c55-8f3e-2b6a1d0c9e11"}, Fields{"volunteer_id": "0b7d3c2a-1f4e-4d5c-9a8b-7c6d5e4f3a21"}, "volunteer_id")
		}, false},
		{"an ID number as a photo id", cccd, "photo id: not a SHA-256 digest", func() error {
			_, _, err := (&Replica{}).FetchPhoto(context.Background(), "", "", cccd, SyncOptions{})
			return err
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.build()
			var ie *InputError
			require.True(t, errors.As(err, &ie), "%v", err)
			require.Equal(t, "agent: "+c.detail, err.Error())
			require.NotContains(t, err.Error(), c.private)
			if c.quoted {
				require.Contains(t, ie.Message("vi"), c.private, "the message she reads quotes what she typed")
				require.Contains(t, ie.Message("en"), c.private)
			}
		})
	}
	// One built without a Detail says nothing of its message, which may
	// quote the input.
	require.Equal(t, "agent: input refused", (&InputError{VI: "«" + name + "»", EN: "«" + name + "»"}).Error())
}
