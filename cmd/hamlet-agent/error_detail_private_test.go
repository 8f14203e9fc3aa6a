package main

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// A value typed into the wrong field is refused by the schema with a
// message that names the field and says what to do, and an error that
// carries nothing of the value: an ID number typed as a count, an address
// typed as a hamlet code. The error's detail (schema.ValidationError's
// Detail: what --json prints as "detail", and what any log of the error
// keeps) quoted it.
func TestARefusedValueIsNotQuotedInTheError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	l := newLaptop(t, dir)
	id := l.mustAdd("32002-01", "Nguyễn Văn Đức")
	const cccd, address = "079123456789", "Số 12 Lê Lợi, khóm 3"
	for _, c := range []struct {
		name, private, field string
		args                 []string
	}{
		{"an ID number as a count", cccd[1:], "members_count", []string{"household", "add", "--hamlet", "32002-01", "--head", "Lê Văn A", "--members", cccd}},
		{"an address as a hamlet code", address, "hamlet_code", []string{"household", "edit", id, "--set", "hamlet_code=" + address}},
		{"an ID number as a count, by --set", cccd[1:], "members_count", []string{"household", "edit", id, "--set", "members_count=" + cccd}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := l.run(append(c.args, "--json")...)
			require.Equal(t, exitError, r.code, "refused:\n%s%s", r.stdout, r.stderr)
			var out struct {
				Error struct{ Message, Detail string }
			}
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
			require.NotEmpty(t, out.Error.Message)
			require.NotContains(t, out.Error.Detail, c.private, "the error's detail quotes the value")
			require.NotContains(t, r.stdout+r.stderr, c.private)
			require.Contains(t, out.Error.Detail, c.field, "the detail names the field")
		})
	}
}

// What the volunteer typed, refused by the agent's own reading of it
// (agent.InputError: a date, a list's item, a field's name, a skill, a
// photo's file or id), is quoted in the message she reads, which helps
// her; the error's detail (what --json prints as "detail", and what any
// log of the error keeps) quoted it too: "agent: Registration date:
// \"079123456789\" is not a valid date…". It names the field and the
// value's form only.
func TestATypedValueIsNotQuotedInTheErrorDetail(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	enrollLocally(t, dir)
	l := newLaptop(t, dir)
	id := l.mustAdd("32002-01", "Nguyễn Văn Đức")
	var rep struct{ ID string }
	require.NoError(t, json.Unmarshal([]byte(l.must("report", "add", "--hamlet", "32002-01", "--category", "dien_chieu_sang", "--description", "Đèn hỏng", "--json").stdout), &rep))
	const cccd, name = "079123456789", "Trần Thị Hoa"
	csv := householdCSV(t, 2)
	for _, c := range []struct {
		name, private, field string
		args                 []string
	}{
		{"an ID number as a date", cccd, "registered_on", []string{"household", "edit", id, "--set", "registered_on=" + cccd}},
		{"a name as a date", name, "visited_on", []string{"visit", "add", "--household", id, "--date", name}},
		{"an ID number as a date and time", cccd, "occurred_at", []string{"report", "add", "--hamlet", "32002-01", "--category", "dien_chieu_sang", "--description", "Đèn hỏng", "--occurred-at", cccd}},
		{"a name as a category", name, "category", []string{"report", "add", "--hamlet", "32002-01", "--category", name, "--description", "Đèn hỏng"}},
		{"a name as yes or no", name, "has_smartphone", []string{"household", "edit", id, "--set", "has_smartphone=" + name}},
		{"a name as a field", name, "households", []string{"household", "edit", id, "--set", name + "=1"}},
		{"a name as an import column's field", name, "households", []string{"import", csv, "--map", "Họ tên chủ hộ=" + name, "--dry-run"}},
		{"a name as a skill", name, "skill", []string{"tutor", "add", "--household", id, "--skill", name}},
		{"a name in a photo's file name", cccd, "photo", []string{"report", "attach", rep.ID, filepath.Join(t.TempDir(), "cccd_"+cccd+".jpg")}},
		{"an ID number as a photo id", cccd, "photo", []string{"report", "photo", cccd}},
		{"a name with no field to set", name, "--set", []string{"household", "edit", id, "--set", name}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := l.run(append(c.args, "--json")...)
			require.Equal(t, exitError, r.code, "refused:\n%s%s", r.stdout, r.stderr)
			var out struct {
				Error struct{ Message, Detail string }
			}
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &out), r.stdout)
			require.NotEmpty(t, out.Error.Message)
			require.NotContains(t, out.Error.Detail, c.private, "the error's detail quotes what was typed")
			require.Contains(t, out.Error.Detail, c.field, "the detail names the field")
		})
	}
}
