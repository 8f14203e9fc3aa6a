package refusal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Every key the server sends renders in each language alone: Vietnamese
// with no English sentence in it, English with no Vietnamese.
func TestEveryReasonInOneLanguage(t *testing.T) {
	at := "2026-11-26T03:00:00Z"
	cases := []struct {
		code syncproto.Code
		why  syncproto.Why
		en   string
	}{
		{syncproto.CodeUnauthorized, Why(NotOwnReplica), "own replica"},
		{syncproto.CodeInvalidValue, Why(NilRow, "table", "households"), "nil UUID"},
		{syncproto.CodeInvalidValue, Why(Invalid, "table", "households", "field", "phone"), "cannot be read"},
		{syncproto.CodeInvalidValue, Why(NotCanonical, "table", "households", "field", "head_name"), "canonical"},
		{syncproto.CodeInvalidValue, Why(RequiredInNewRow, "table", "households", "field", "head_name"), "same push"},
		{syncproto.CodeInvalidValue, Why(schema.CodeOutOfRange, "table", "households", "field", "members_count"), "between 1 and"},
		{syncproto.CodeInvalidValue, Why(schema.CodeWrongType, "table", "households", "field", "members_count", "want", "int", "got", "string"), "(wants int, got string)"},
		{syncproto.CodeInvalidValue, Why(schema.CodeInFuture, "table", "visits", "field", "visited_on"), "future"},
		{syncproto.CodeMovedOutOfScope, Why(Moved, "household", "0b6f", "from", "32002-01", "to", "32167-01", "at", at), "moved from hamlet 32002-01 to hamlet 32167-01 at 2026-11-26 10:00 (UTC+7)"},
		{syncproto.CodeMovedOutOfScope, Why(HamletRemoved, "hamlet", "32002-01", "at", at), "Hamlet 32002-01 was removed"},
		{syncproto.CodeOutOfScope, Why(NotInScope, "hamlet", "32002-09"), "Hamlet 32002-09 is not"},
		{syncproto.CodeOutOfScope, Why(ParentNotInScope, "household", "0b6f", "hamlet", "32002-09", "table", "visits"), "team that covers 32002-09"},
		{syncproto.CodeInvalidValue, Why(HouseholdMissing, "household", "0b6f", "table", "visits"), "Household 0b6f is not on the server yet"},
		{syncproto.CodeInvalidValue, Why(RestoreIncomplete, "table", "households", "row", "0b6f", "field", "head_name"), "it lacks «"},
		{syncproto.CodeOutOfScope, Why(MoveOutOfScope, "table", "households", "to", "32002-09"), "or a coordinator"},
		{syncproto.CodeReplicaForked, Why(Forked, "seq", "4"), "change 4 "},
		{syncproto.CodeRowCollected, Why(Collected, "table", "households", "row", "0b6f"), "Record 0b6f was deleted on the server and removed"},
		{syncproto.CodeInvalidValue, Why(NewerField, "table", "households", "field", "uses_camau_g", "added_in", "2", "agent", "1",
			"cause", schema.CodeWrongType, "want", "bool", "got", "string"), "added in data schema 2"},
	}
	for _, tc := range cases {
		t.Run(tc.why.Key, func(t *testing.T) {
			vi, en := Text(tc.code, tc.why, "vi"), Text(tc.code, tc.why, "en")
			require.Contains(t, en, tc.en)
			require.False(t, i18n.HasVietnamese(en), "English only: %s", en)
			require.True(t, i18n.HasVietnamese(vi), "Vietnamese: %s", vi)
			require.NotContains(t, vi, tc.en, "Vietnamese only: %s", vi)
			w, text := Load(Store(tc.why))
			require.Equal(t, tc.why, w, "kept as data")
			require.Empty(t, text)
		})
	}
}

func TestCompatKeepsTheSchemaCodeFirst(t *testing.T) {
	require.Equal(t, "in_future: "+Text(syncproto.CodeInvalidValue, Why(schema.CodeInFuture, "table", "visits", "field", "visited_on"), "vi"),
		Compat(syncproto.CodeInvalidValue, Why(schema.CodeInFuture, "table", "visits", "field", "visited_on")))
	require.Regexp(t, `^required: `, Compat(syncproto.CodeInvalidValue, Why(RequiredInNewRow, "table", "households", "field", "head_name")))
	require.Regexp(t, `^Hộ 0b6f`, Compat(syncproto.CodeMovedOutOfScope, Why(Moved, "household", "0b6f", "from", "a", "to", "b", "at", "x")))
}

func TestUnknownKeyAndOldText(t *testing.T) {
	en := Text(syncproto.CodeInvalidValue, Why("from_a_newer_server", "x", "1"), "en")
	require.Contains(t, en, "invalid_value: from_a_newer_server")
	w, text := Load("hamlet 32002-09 is not in the device's scope")
	require.True(t, w.IsZero())
	require.Equal(t, "hamlet 32002-09 is not in the device's scope", text, "a reason stored before reasons were data is its text")
	require.Equal(t, "", Store(syncproto.Why{}))
}

func FuzzLoad(f *testing.F) {
	f.Add(Store(Why(Moved, "household", "0b6f", "at", "2026-11-26T03:00:00Z")))
	f.Add(`why:"k" "a"=`)
	f.Add("plain text")
	f.Fuzz(func(t *testing.T, s string) {
		w, text := Load(s)
		if w.IsZero() {
			require.Equal(t, s, text)
			return
		}
		w2, _ := Load(Store(w))
		require.Equal(t, w, w2)
	})
}

// A volunteer knows her hamlets by name: the reader names them (the
// agent: Enrollment.HamletLabel); a code it does not know stays a code.
func TestTextNamesTheHamlets(t *testing.T) {
	label := func(c string) string {
		if c == "32002-02" {
			return "Khóm 2 (32002-02)"
		}
		return c
	}
	at := At(time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		why  syncproto.Why
		want string
	}{
		{Why(HamletRemoved, "hamlet", "32002-02", "at", at), "Ấp/khóm Khóm 2 (32002-02) đã được bỏ khỏi tổ"},
		{Why(NotInScope, "hamlet", "32002-09"), "Ấp/khóm 32002-09 không thuộc phạm vi"},
		{Why(Moved, "household", "0b6f", "from", "32002-02", "to", "32167-01", "at", at), "từ ấp/khóm Khóm 2 (32002-02) sang ấp/khóm 32167-01"},
		{Why(Collected, "row", "32002-02"), "Bản ghi 32002-02 đã bị xoá"}, // not a hamlet parameter
	} {
		require.Contains(t, TextNamed(syncproto.CodeMovedOutOfScope, tc.why, "vi", label), tc.want)
	}
	require.Contains(t, TextNamed(syncproto.CodeMovedOutOfScope, Why(HamletRemoved, "hamlet", "32002-02", "at", at), "en", label), "Hamlet Khóm 2 (32002-02) was removed")
	require.Contains(t, Text(syncproto.CodeMovedOutOfScope, Why(HamletRemoved, "hamlet", "32002-02", "at", at), "vi"), "Ấp/khóm 32002-02 đã")
}
