package schema_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
)

// A value refused by the schema is not quoted in the error: Detail goes
// to logs (ValidationError), and a value typed into the wrong field may be
// a name, an address, a phone or an ID number. The error still names the
// table, the field and the code; the volunteer's message says what to do.
func TestARefusedValueIsNotInTheError(t *testing.T) {
	const cccd, name, phone, address = "079123456789", "Trần Thị Hoa", "0912345678", "Số 12 Lê Lợi, khóm 3"
	hh, _ := schema.LookupTable("households")
	visits, _ := schema.LookupTable("visits")
	reports, _ := schema.LookupTable("field_reports")
	write := func(t *schema.Table, field string, v any) func() error {
		return func() error {
			_, err := t.CheckWrite(schema.Write{Fields: map[string]any{field: v}, Writer: schema.WriterVolunteer, Today: "2026-12-05"})
			return err
		}
	}
	for _, c := range []struct {
		name, private, field, code string
		check                      func() error
	}{
		{"an ID number as a date", cccd, "visited_on", schema.CodeInvalidDate, write(visits, "visited_on", cccd)},
		{"a name as a date", name, "registered_on", schema.CodeInvalidDate, write(hh, "registered_on", name)},
		{"an ID number as a count", "79123456789", "members_count", schema.CodeOutOfRange, write(hh, "members_count", int64(79123456789))},
		{"an ID number as a count, a float", "79123456789", "members_count", schema.CodeOutOfRange, write(hh, "members_count", 79123456789.0)},
		{"an ID number as a time", "79123456789", "occurred_at", schema.CodeInvalidDate, write(reports, "occurred_at", int64(79123456789))},
		{"a name as a category", name, "category", schema.CodeUnknownEnum, write(reports, "category", name)},
		{"a phone as a category", phone, "category", schema.CodeUnknownEnum, write(reports, "category", phone)},
		{"an address as a hamlet code", address, schema.ScopeField, schema.CodeInvalidHamlet, write(hh, schema.ScopeField, address)},
		{"a date of next year", "2027-06-01", "visited_on", schema.CodeInFuture, write(visits, "visited_on", "2027-06-01")},
		{"an address as a hamlet code, alone", address, schema.ScopeField, schema.CodeInvalidHamlet, func() error { return schema.ValidateHamletCode(address) }},
		{"an ID number as a date, alone", cccd, "", schema.CodeInvalidDate, func() error { return schema.ValidateDate(cccd) }},
		{"an address as a team's hamlet", address, "hamlet_codes", schema.CodeInvalidHamlet, func() error {
			return schema.Team{ID: "7d1c2f0e-9a43-4c55-8f3e-2b6a1d0c9e11", CommuneCode: "32002", Name: "Tổ 1", HamletCodes: []string{address}}.Validate()
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.check()
			var ve *schema.ValidationError
			require.True(t, errors.As(err, &ve), "%v", err)
			require.Equal(t, c.code, ve.Code, "%v", err)
			require.Equal(t, c.field, ve.Field)
			require.NotContains(t, err.Error(), c.private, "the error quotes the value")
			require.NotContains(t, ve.Message("vi")+ve.Message("en"), c.private)
			require.NotEmpty(t, ve.Detail, "Detail still says what is wrong")
		})
	}
}
