package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
)

// TestImportOfABlankSheetSaysItIsEmpty: a sheet whose cells are all blank
// (a file of white space, an .xlsx whose list is on another worksheet) is
// an empty file, not one without a header row.
func TestImportOfABlankSheetSaysItIsEmpty(t *testing.T) {
	r := agenttest.New(t)
	for _, rows := range [][][]string{nil, {{}}, {{"", " "}, {"\t"}}} {
		_, err := r.Import(context.Background(), &agent.ImportSheet{Rows: rows}, agent.ImportOptions{})
		var ee *agent.ImportEmptyError
		require.ErrorAs(t, err, &ee)
		require.Contains(t, agent.MessageOf(err, "vi"), "Tệp trống")
	}
}

// TestImportTellsHouseholdsApartByTheirMarks: names that differ only in
// their marks are other households; case and spaces are not a difference.
func TestImportTellsHouseholdsApartByTheirMarks(t *testing.T) {
	r := agenttest.New(t)
	sheet := func(names ...string) *agent.ImportSheet {
		s := &agent.ImportSheet{Rows: [][]string{{"Họ tên chủ hộ", "Địa chỉ", "Ấp"}}}
		for _, n := range names {
			s.Rows = append(s.Rows, []string{n, "Tổ 3", hamletA})
		}
		return s
	}
	res, err := r.Import(context.Background(), sheet("Lê Thị Hoa", "Nguyễn Văn Tám"), agent.ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, 2, res.Imported)
	res, err = r.Import(context.Background(), sheet("Lê Thị Hòa", "Nguyễn Văn Tâm", "Nguyễn Văn Tam", "LÊ THỊ  HOA"), agent.ImportOptions{})
	require.NoError(t, err)
	require.Equal(t, 3, res.Imported)
	require.Equal(t, []int{5}, res.Already, "the same name in capitals, with two spaces, is the same household")
	res, err = r.Import(context.Background(), sheet("Trần Văn Hải", "trần văn  hải"), agent.ImportOptions{})
	require.ErrorAs(t, err, new(*agent.ImportRefusedError))
	require.Len(t, res.Refused, 1)
	require.ErrorAs(t, res.Refused[0].Err, new(*agent.HouseholdAgainError))
}
