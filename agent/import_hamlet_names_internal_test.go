package agent

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// A sheet's hamlet cell is read by the scope's codes and names; a name
// that fits two hamlets files the row in neither. The scopes are what a
// server sends: before it told merged hamlets apart (two "Khóm 1"), and
// after ("Khóm 1 (Phường 9 cũ)").
func TestImportHamletCellByName(t *testing.T) {
	t.Parallel()
	raw := []Hamlet{{Code: "31999-01", Name: "Khóm 1"}, {Code: "32002-01", Name: "Khóm 1"}, {Code: "32002-02", Name: "Khóm 2"}, {Code: "32167-01", Name: "Ấp 1"}}
	apart := []Hamlet{{Code: "31999-01", Name: "Khóm 1 (Phường 9 cũ)"}, {Code: "32002-01", Name: "Khóm 1 (Phường 4 cũ)"}, {Code: "32002-02", Name: "Khóm 2"},
		{Code: "32167-01", Name: "Ấp Tân Thành (mã 32167-01)"}, {Code: "32167-02", Name: "Ấp Tân Thành (mã 32167-02)"}, {Code: "32167-03", Name: "Ấp Cái Xép (Khai Long)"}}
	for _, tc := range []struct {
		name  string
		scope []Hamlet
		cell  string
		code  string   // "" with fits or not in scope
		fits  []string // the codes an ambiguous name fits
	}{
		{"a code", raw, "31999-01", "31999-01", nil},
		{"a name shared by two", raw, "Khóm 1", "", []string{"31999-01", "32002-01"}},
		{"folded, shared", raw, "khom  1", "", []string{"31999-01", "32002-01"}},
		{"a name of one", raw, "Khóm 2", "32002-02", nil},
		{"the exact name wins over a bare number", raw, "Ấp 1", "32167-01", nil},
		{"a bare number fitting an ấp and a khóm", raw, "1", "", []string{"31999-01", "32002-01", "32167-01"}},
		{"a name told apart", apart, "Khóm 1 (Phường 9 cũ)", "31999-01", nil},
		{"told apart, folded", apart, "khom 1 (phuong 4 cu)", "32002-01", nil},
		{"the name without what tells apart", apart, "Khóm 1", "", []string{"31999-01", "32002-01"}},
		{"without the unit word either", apart, "Tân Thành", "", []string{"32167-01", "32167-02"}},
		{"told apart by code", apart, "Ấp Tân Thành (mã 32167-02)", "32167-02", nil},
		{"a name's own parentheses, left out", apart, "Ấp Cái Xép", "32167-03", nil},
		{"a name's own parentheses", apart, "Ấp Cái Xép (Khai Long)", "32167-03", nil},
		{"not in scope", apart, "Khóm 7", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &importPlan{hamlets: newHamletNames(tc.scope)}
			code, err := p.hamletCode(tc.cell)
			var ae *AmbiguousHamletError
			var se *ScopeError
			switch {
			case tc.code != "":
				require.NoError(t, err)
				require.Equal(t, tc.code, code)
			case tc.fits != nil:
				require.True(t, errors.As(err, &ae), "%v", err)
				var got []string
				for _, h := range ae.Fits {
					got = append(got, h.Code)
				}
				require.Equal(t, tc.fits, got)
				require.Contains(t, ae.Message("vi"), "trùng")
			default:
				require.True(t, errors.As(err, &se), "%v", err)
			}
		})
	}
}
