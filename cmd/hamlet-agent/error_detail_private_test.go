package main

import (
	"encoding/json"
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
