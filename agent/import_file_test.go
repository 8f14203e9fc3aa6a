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
	t.Parallel()
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
	t.Parallel()
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

// TestImportRefusesAFormulaWithoutItsValue: a row whose imported cell is
// a formula without its value is refused, naming the cell (nothing
// imported); one in a column left out is no matter; a sheet that looks
// empty, or headerless, because of such formulas says so.
func TestImportRefusesAFormulaWithoutItsValue(t *testing.T) {
	t.Parallel()
	r := agenttest.New(t)
	ctx := context.Background()
	s := &agent.ImportSheet{
		Rows:   [][]string{{"Họ tên chủ hộ", "Ấp", "SĐT", "Ghi chép riêng"}, {"Nguyễn Văn An", hamletA}, {"Trần Thị Bình", hamletA, "0912345679"}, nil},
		Lines:  []int{1, 2, 3, 4},
		Errors: []agent.ImportCellError{{Row: 1, Col: 2, NoValue: true}, {Row: 2, Col: 3, NoValue: true}, {Row: 3, Col: 0, NoValue: true}},
	}
	res, err := r.Import(ctx, s, agent.ImportOptions{Map: map[string]string{"Ghi chép riêng": "-"}})
	require.ErrorAs(t, err, new(*agent.ImportRefusedError))
	require.Zero(t, res.Imported)
	require.Len(t, res.Refused, 2)
	require.Equal(t, 2, res.Refused[0].Line)
	require.Equal(t, "SĐT", res.Refused[0].Column)
	require.Contains(t, res.Refused[0].Message("vi"), "Ô C2 là công thức")
	require.Equal(t, 4, res.Refused[1].Line, "a row of formulas without their value is no blank row")
	require.Contains(t, res.Refused[1].Message("en"), "Cell A4 is a formula")

	for _, rows := range [][][]string{{nil, nil}, {{"", "Hộ"}, {"1"}}} {
		s := &agent.ImportSheet{Rows: rows, Errors: []agent.ImportCellError{{Row: 1, Col: 27, NoValue: true}}}
		_, err = r.Import(ctx, s, agent.ImportOptions{})
		require.ErrorAs(t, err, new(*agent.FormulaNoValueError))
		require.Contains(t, agent.MessageOf(err, "vi"), "Ô AB2 là công thức")
	}
}

// TestImportRefusesMangledText: a list whose letters Excel replaced with
// "?", or typed in the VNI or TCVN3 fonts, imports nothing and says why,
// naming the line and the cell; a "?" in a note is no matter, nor mangled
// text in a column left out; a header in those fonts is named as such,
// not as a missing header.
func TestImportRefusesMangledText(t *testing.T) {
	t.Parallel()
	r := agenttest.New(t)
	ctx := context.Background()
	header := []string{"STT", "Ho ten chu ho", "Dia chi", "Ghi chu", "Ap", "Cot khac"}
	try := func(rows ...[]string) (*agent.ImportResult, error) {
		return r.Import(ctx, &agent.ImportSheet{Rows: append([][]string{header}, rows...)}, agent.ImportOptions{Map: map[string]string{"Cot khac": "-"}})
	}
	_, err := try([]string{"1", "Lê Văn An", "Số 1", "", hamletA}, []string{"2", "Nguy?n V?n An", "S? 1", "", hamletA})
	var te *agent.ImportTextError
	require.ErrorAs(t, err, &te)
	require.False(t, te.Legacy)
	require.Equal(t, 3, te.Line)
	require.Contains(t, te.Message("vi"), "Dòng 3, cột «Ho ten chu ho»: «Nguy?n V?n An»: Excel đã thay các chữ có dấu bằng dấu \"?\"")
	require.Contains(t, te.Message("vi"), "CSV UTF-8")
	require.Contains(t, te.Message("en"), "CSV UTF-8")

	_, err = try([]string{"1", "NguyÔn V¨n B×nh", "Sè 2", "", hamletA})
	require.ErrorAs(t, err, &te)
	require.True(t, te.Legacy)
	require.Contains(t, te.Message("vi"), "VNI hoặc TCVN3")
	require.Contains(t, te.Message("vi"), "Chuyển mã")
	require.Contains(t, te.Message("en"), "VNI or TCVN3")

	hs, err := r.List(ctx, "households", agent.ListOptions{})
	require.NoError(t, err)
	require.Empty(t, hs, "nothing imported")

	res, err := try([]string{"1", "Lê Văn An", "Số 1", "Có điện thoại không?Chưa hỏi", hamletA, "Nguy?n V¨n"})
	require.NoError(t, err)
	require.Equal(t, 1, res.Imported)

	_, err = r.Import(ctx, &agent.ImportSheet{Rows: [][]string{{"STT", "Hoï teân chuû hoä", "Ñòa chæ"}, {"1", "Nguyeãn Vaên An", "Soá 1"}}}, agent.ImportOptions{})
	require.ErrorAs(t, err, &te)
	require.True(t, te.Legacy)
	require.Equal(t, 1, te.Line)
}
