package schema

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// After the 2025 merger ward 32002 (An Xuyên) holds hamlets called
// "Khóm 1" from four former communes: each list names them apart
// (issue 21, item 15).
func TestUnitNames(t *testing.T) {
	hamlet := func(code, name, parent string) AdminUnit {
		return AdminUnit{Code: code, Name: name, Type: "khom", Level: LevelHamlet, ParentCode: parent}
	}
	units := []AdminUnit{
		{Code: "96", Name: "Cà Mau", Type: "tinh", Level: LevelProvince},
		// 32002 was Phường 4 and is now An Xuyên: the code was reused.
		{Code: "32002", Name: "An Xuyên", Type: "phuong", Level: LevelCommune, ParentCode: "96"},
		{Code: "32167", Name: "Tân Thuận", Type: "xa", Level: LevelCommune, ParentCode: "96"},
		// A retired commune keeps its record, under a name of its own here.
		{Code: "32005", Name: "Phường Một (hồ sơ)", Type: "phuong", Level: LevelCommune, ParentCode: "964", RetiredOn: "2025-07-01"},
		hamlet("32002-01", "Khóm 1", "32002"),
		hamlet("32005-01", "Khóm 1", "32002"),
		hamlet("31999-01", "Khóm 1", "32002"),
		hamlet("32022-01", "Khóm 1", "32002"),
		hamlet("32002-02", "Khóm 2", "32002"),
		// Same name, same former commune: only the code tells them apart.
		hamlet("32167-01", "Ấp 1", "32167"),
		hamlet("32167-02", "ấp 1", "32167"),
		// Same name under different parents: no need to tell apart.
		hamlet("32164-03", "Khóm 2", "32167"),
		// A retired hamlet is no one's duplicate.
		{Code: "32002-09", Name: "Khóm 2", Type: "khom", Level: LevelHamlet, ParentCode: "32002", RetiredOn: "2025-07-01"},
	}
	vi := UnitNames(units, "vi")
	en := UnitNames(units, "en")
	for _, tc := range []struct{ code, vi, en string }{
		{"32002-01", "Khóm 1 (Phường 4 cũ)", "Khóm 1 (former Phường 4)"},
		{"32005-01", "Khóm 1 (Phường Một (hồ sơ) cũ)", "Khóm 1 (former Phường Một (hồ sơ))"},
		{"31999-01", "Khóm 1 (Phường 9 cũ)", "Khóm 1 (former Phường 9)"},
		{"32022-01", "Khóm 1 (phường Tân Xuyên cũ)", "Khóm 1 (former phường Tân Xuyên)"},
		{"32002-02", "Khóm 2", "Khóm 2"},
		{"32167-01", "Ấp 1 (mã 32167-01)", "Ấp 1 (code 32167-01)"},
		{"32167-02", "ấp 1 (mã 32167-02)", "ấp 1 (code 32167-02)"},
		{"32164-03", "Khóm 2", "Khóm 2"},
		{"32002", "An Xuyên", "An Xuyên"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			require.Equal(t, tc.vi, vi[tc.code])
			require.Equal(t, tc.en, en[tc.code])
		})
	}
	require.NotContains(t, vi, "32002-09", "retired units are not listed")
	require.NotContains(t, vi, "32005")
}
