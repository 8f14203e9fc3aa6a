package schema_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
)

func countBy(units []schema.AdminUnit, key func(schema.AdminUnit) string) map[string]int {
	m := map[string]int{}
	for _, u := range units {
		m[key(u)]++
	}
	return m
}

func byCode(units []schema.AdminUnit) map[string]schema.AdminUnit {
	m := map[string]schema.AdminUnit{}
	for _, u := range units {
		m[u.Code] = u
	}
	return m
}

func TestEmbeddedUnits2022(t *testing.T) {
	units := schema.EmbeddedUnits2022()
	require.Equal(t, map[string]int{"province": 1, "district": 9, "commune": 101},
		countBy(units, func(u schema.AdminUnit) string { return string(u.Level) }))
	communes := countBy(units, func(u schema.AdminUnit) string {
		if u.Level != schema.LevelCommune {
			return ""
		}
		return u.Type
	})
	require.Equal(t, 10, communes["phuong"])
	require.Equal(t, 9, communes["thi_tran"])
	require.Equal(t, 82, communes["xa"])

	m := byCode(units)
	require.Equal(t, schema.AdminUnit{Code: "96", Name: "Cà Mau", Type: "tinh", Level: schema.LevelProvince}, m["96"])
	require.Equal(t, schema.AdminUnit{Code: "964", Name: "Cà Mau", Type: "thanh_pho", Level: schema.LevelDistrict, ParentCode: "96"}, m["964"])
	require.Equal(t, "huyen", m["966"].Type)
	// Same name, different units: keyed by code.
	require.Equal(t, schema.AdminUnit{Code: "32025", Name: "Tân Thành", Type: "phuong", Level: schema.LevelCommune, ParentCode: "964"}, m["32025"])
	require.Equal(t, "xa", m["32026"].Type)
	require.Equal(t, "Tân Thành", m["32026"].Name)
	require.Equal(t, "Phường 4", m["32002"].Name, "the 2022 file keeps 2022 codes")

	for _, u := range units {
		require.NoError(t, u.Validate(), u.Code)
		if u.Level != schema.LevelProvince {
			_, ok := m[u.ParentCode]
			require.True(t, ok, "parent of %s exists", u.Code)
		}
	}
}

func TestEmbeddedUnits2025(t *testing.T) {
	units := schema.EmbeddedUnits2025()
	require.Len(t, units, 65)
	require.Equal(t, schema.AdminUnit{Code: "96", Name: "Cà Mau", Type: "tinh", Level: schema.LevelProvince}, units[0])
	communes := units[1:]
	require.Len(t, communes, 64)
	require.Equal(t, map[string]int{"xa": 55, "phuong": 9}, countBy(communes, func(u schema.AdminUnit) string { return u.Type }))

	m := byCode(units)
	for _, u := range communes {
		require.NoError(t, u.Validate(), u.Code)
		require.Equal(t, schema.LevelCommune, u.Level)
		require.Equal(t, "96", u.ParentCode, "no district level since 2025")
		require.NotEmpty(t, u.FormedFrom)
	}
	require.Equal(t, []schema.Predecessor{{"32158", false}, {"32170", false}, {"32155", true}}, m["32155"].FormedFrom)
	require.Equal(t, "An Xuyên", m["32002"].Name)
	require.Equal(t, []schema.Predecessor{{"32092", false}}, m["32092"].FormedFrom, "Hồ Thị Kỷ was not merged")

	// 32155 (old xã Tạ An Khương) was split between Tạ An Khương and Đầm Dơi.
	var takers []string
	for _, u := range communes {
		for _, p := range u.FormedFrom {
			if p.Code == "32155" {
				require.True(t, p.Partial)
				takers = append(takers, u.Code)
			}
		}
	}
	require.Equal(t, []string{"32155", "32152"}, takers)
}

func TestEmbeddedUnitsAreCopies(t *testing.T) {
	a := schema.EmbeddedUnits2025()
	a[1].Name = "changed"
	a[1].FormedFrom[0].Code = "00000"
	b := schema.EmbeddedUnits2025()
	require.NotEqual(t, "changed", b[1].Name)
	require.NotEqual(t, "00000", b[1].FormedFrom[0].Code)
}

const header2022 = "district_name,district_type,commune_name,commune_type,district_code,commune_code\n"
const header2025 = "commune_name,commune_type,formed_from,commune_code,formed_from_codes,nq1655_clause\n"

func TestParseUnitsErrors(t *testing.T) {
	tests := []struct {
		name  string
		parse func(string) error
		in    string
		line  int
		col   string
		msg   string
	}{
		{"2022 empty file", parse2022, "", 1, "", "empty"},
		{"2022 missing column", parse2022, "district_name,commune_name\nA,B\n", 1, "", `no "district_type" column`},
		{"2022 short district code", parse2022, header2022 + "Cà Mau,thanh_pho,Phường 9,phuong,96,31999\n", 2, "district_code", "3-digit"},
		{"2022 bad commune code", parse2022, header2022 + "Cà Mau,thanh_pho,Phường 9,phuong,964,3199x\n", 2, "commune_code", "5-digit"},
		{"2022 bad commune type", parse2022, header2022 + "Cà Mau,thanh_pho,Phường 9,ward,964,31999\n", 2, "commune_type", "phuong, xa"},
		{"2022 empty name", parse2022, header2022 + "Cà Mau,thanh_pho, ,phuong,964,31999\n", 2, "commune_name", "empty"},
		{"2022 duplicate commune", parse2022, header2022 + "Cà Mau,thanh_pho,Phường 9,phuong,964,31999\nCà Mau,thanh_pho,Phường 4,phuong,964,31999\n", 3, "commune_code", "line 2"},
		{"2022 district disagrees", parse2022, header2022 + "Cà Mau,thanh_pho,Phường 9,phuong,964,31999\nCà Mau,huyen,Phường 4,phuong,964,32002\n", 3, "district_code", "agree"},
		{"2022 wrong field count", parse2022, header2022 + "Cà Mau,thanh_pho,Phường 9,phuong,964\n", 2, "", "number of columns"},
		{"2022 bare quote", parse2022, header2022 + "Cà \"Mau,thanh_pho,Phường 9,phuong,964,31999\n", 2, "", "quotation mark"},
		{"2025 no predecessors", parse2025, header2025 + "A,xa,x,32167,,1\n", 2, "formed_from_codes", "no predecessor"},
		{"2025 bad predecessor", parse2025, header2025 + "A,xa,x,32167,32164;3216,1\n", 2, "formed_from_codes", `"3216"`},
		{"2025 doubled star", parse2025, header2025 + "A,xa,x,32167,32164**,1\n", 2, "formed_from_codes", "5-digit"},
		{"2025 predecessor twice", parse2025, header2025 + "A,xa,x,32167,32164;32164,1\n", 2, "formed_from_codes", "twice"},
		{"2025 lone partial", parse2025, header2025 + "A,xa,x,32167,32164*,1\n", 2, "formed_from_codes", "no other commune"},
		{"2025 whole twice", parse2025, header2025 + "A,xa,x,32167,32164,1\nB,xa,x,32168,32164,2\n", 3, "formed_from_codes", "given whole"},
		{"2025 partial and whole", parse2025, header2025 + "A,xa,x,32167,32164*,1\nB,xa,x,32168,32164,2\n", 3, "formed_from_codes", "partial (*) on one line"},
		{"2025 district type", parse2025, header2025 + "A,huyen,x,32167,32164,1\n", 2, "commune_type", "not a commune type"},
		{"2025 duplicate commune", parse2025, header2025 + "A,xa,x,32167,32164,1\nB,xa,x,32167,32165,2\n", 3, "commune_code", "already used"},
		{"2025 multi-line quoted cell", parse2025, header2025 + "A,xa,\"x\ny\",32167,bad,1\n", 3, "formed_from_codes", "5-digit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse(tt.in)
			var pe *schema.ParseError
			require.True(t, errors.As(err, &pe), "want *ParseError, got %v", err)
			require.Equal(t, tt.line, pe.Line, err.Error())
			require.Equal(t, tt.col, pe.ColumnName, err.Error())
			require.Contains(t, err.Error(), tt.msg)
			require.Contains(t, err.Error(), "line ")
		})
	}
}

func parse2022(s string) error { _, err := schema.ParseUnits2022(strings.NewReader(s)); return err }
func parse2025(s string) error { _, err := schema.ParseUnits2025(strings.NewReader(s)); return err }

func TestParseUnitsTolerance(t *testing.T) {
	// A BOM from Excel, reordered columns, CRLF, decomposed text and no
	// trailing newline all import.
	in := "\ufeffcommune_code,commune_name,commune_type,formed_from,formed_from_codes\r\n" +
		"32167,Ta\u0302n Thua\u0323\u0302n,xa,x,32164; 32167\r\n" +
		"32168,B,phuong,y,32170*;32171\r\n" +
		"32169,C,xa,z,32170*"
	units, err := schema.ParseUnits2025(strings.NewReader(in))
	require.NoError(t, err)
	require.Len(t, units, 4)
	require.Equal(t, "Tân Thuận", units[1].Name)
	require.Equal(t, []schema.Predecessor{{"32164", false}, {"32167", false}}, units[1].FormedFrom)
}

func TestHamletCode(t *testing.T) {
	require.Equal(t, "32002-03", schema.HamletCode("32002", 3))
	require.Equal(t, "32002-42", schema.HamletCode("32002", 42))
	require.NoError(t, schema.ValidateHamletCode(schema.HamletCode("32002", 3)))

	for _, bad := range []string{"", "32002", "32002-3", "32002-003", "3200-03", "32002_03", "32002-00", "3200a-03", "32002-0a", schema.HamletCode("32002", 100)} {
		t.Run(bad, func(t *testing.T) {
			requireCode(t, schema.ValidateHamletCode(bad), schema.CodeInvalidHamlet)
		})
	}
}

func TestAdminUnitValidate(t *testing.T) {
	hamlet := schema.AdminUnit{Code: "32002-03", Name: "Khóm 3", Type: "khom", Level: schema.LevelHamlet, ParentCode: "32002"}
	require.NoError(t, hamlet.Validate())
	moved := schema.AdminUnit{Code: "32005-01", Name: "Khóm 1", Type: "khom", Level: schema.LevelHamlet, ParentCode: "32002"}
	require.NoError(t, moved.Validate(), "the 2025 merger moved hamlets and kept their codes")

	tests := []struct {
		name  string
		edit  func(*schema.AdminUnit)
		field string
	}{
		{"unknown level", func(u *schema.AdminUnit) { u.Level = "ward" }, "level"},
		{"hamlet code", func(u *schema.AdminUnit) { u.Code = "32002-3" }, "code"},
		{"hamlet parent", func(u *schema.AdminUnit) { u.ParentCode = "964" }, "parent_code"},
		{"hamlet without parent", func(u *schema.AdminUnit) { u.ParentCode = "" }, "parent_code"},
		{"empty name", func(u *schema.AdminUnit) { u.Name = " " }, "name"},
		{"commune type on hamlet", func(u *schema.AdminUnit) { u.Type = "xa" }, "type"},
		{"retired date", func(u *schema.AdminUnit) { u.RetiredOn = "2025-13-01" }, "retired_on"},
		{"predecessor twice", func(u *schema.AdminUnit) {
			u.FormedFrom = []schema.Predecessor{{Code: "32002-01"}, {Code: "32002-01", Partial: true}}
		}, "formed_from"},
		{"province with parent", func(u *schema.AdminUnit) {
			*u = schema.AdminUnit{Code: "96", Name: "Cà Mau", Type: "tinh", Level: schema.LevelProvince, ParentCode: "00"}
		}, "parent_code"},
		{"district code", func(u *schema.AdminUnit) {
			*u = schema.AdminUnit{Code: "9640", Name: "Cà Mau", Type: "thanh_pho", Level: schema.LevelDistrict, ParentCode: "96"}
		}, "code"},
		{"commune parent", func(u *schema.AdminUnit) {
			*u = schema.AdminUnit{Code: "32002", Name: "An Xuyên", Type: "phuong", Level: schema.LevelCommune, ParentCode: "9"}
		}, "parent_code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := hamlet
			tt.edit(&u)
			err := u.Validate()
			require.Error(t, err)
			require.Equal(t, tt.field, err.(*schema.ValidationError).Field, err.Error())
		})
	}
}

// Helper 154: a hamlets file as Excel writes it on a Windows set to
// Vietnamese (semicolons) and with cleared rows left as ";" or "," was
// refused on them; the units files share the reader.
func TestParseHamletMovesAsExcelWritesIt(t *testing.T) {
	for _, in := range []string{
		"\ufeffhamlet_code;commune_code\r\n32155-01;32152\r\n32155-02;32155\r\n;\r\n;\r\n",
		"hamlet_code,commune_code\r\n32155-01,32152\r\n,\r\n32155-02,32155\r\n,\r\n",
	} {
		moves, err := schema.ParseHamletMoves(strings.NewReader(in))
		require.NoError(t, err, "%q", in)
		require.Len(t, moves, 2)
		require.Equal(t, schema.HamletMove{Hamlet: "32155-02", Commune: "32155", Line: moves[1].Line}, moves[1])
	}
}

// Helper 162's review of 11911d3: a "Mã" header naming the type where the
// name would be read the type as the name; "Mã ấp/khóm" was no header;
// a name over two lines of its cell was refused as not Unicode text.
func TestParseHamletsHeadersAndCells(t *testing.T) {
	_, err := schema.ParseHamlets(strings.NewReader("Mã,Loại,Đơn vị\n32002-13,khom,Khóm 13\n"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "line 1")
	// Helper 164: a column headed Tên … is the name, Loại … the type;
	// a column not known is refused, named.
	us, err := schema.ParseHamlets(strings.NewReader("Mã,Loại,Tên đơn vị\n32002-13,khom,Khóm 13\n"))
	require.NoError(t, err)
	require.Equal(t, "Khóm 13", us[0].Name)
	require.Equal(t, "khom", us[0].Type)
	_, err = schema.ParseHamlets(strings.NewReader("Mã,STT,Tên,Phường\n32002-13,1,Khóm 13,khom\n"))
	require.ErrorContains(t, err, `"Phường"`)
	us, err = schema.ParseHamlets(strings.NewReader("Mã,Tên,Loại,\n32002-13,Khóm 13,khom,\n")) // a blank column Excel kept
	require.NoError(t, err)
	require.Equal(t, "khom", us[0].Type)
	us, err = schema.ParseHamlets(strings.NewReader("Mã ấp/khóm,Tên ấp/khóm,Loại\n32002-13,Khóm 13,khom\n"))
	require.NoError(t, err)
	require.Equal(t, "Khóm 13", us[0].Name)
	require.Equal(t, "khom", us[0].Type)
	us, err = schema.ParseHamlets(strings.NewReader("Mã,STT,Tên\n32002-10,1,Ấp 10\n")) // helper 163
	require.NoError(t, err)
	require.Equal(t, "Ấp 10", us[0].Name)
	require.Equal(t, "ap", us[0].Type)
	us, err = schema.ParseHamlets(strings.NewReader("code,name,type\n32002-10,\"Ấp 10\n(Cây Dừa)\",ap\n"))
	require.NoError(t, err)
	require.Equal(t, "Ấp 10 (Cây Dừa)", us[0].Name)
}

// Helper 187: a header naming neither the name nor the type is refused,
// not read by position; a header of the code alone still reads code,name.
func TestParseHamletsHeaderNamingNoColumn(t *testing.T) {
	for _, in := range []string{
		"Mã ấp,Số hộ\n32002-10,120\n",
		"code,x,y\n32002-10,Ấp 10,ap\n",
	} {
		_, err := schema.ParseHamlets(strings.NewReader(in))
		var pe *schema.ParseError
		require.ErrorAs(t, err, &pe, in)
		require.Equal(t, 1, pe.Line, in)
		require.Contains(t, pe.MsgVI, "Tên ấp", in)
	}
	// The names' column headed by the hamlet's word: the count's column
	// is the one told, on the header's line.
	_, err := schema.ParseHamlets(strings.NewReader("Mã ấp,Số hộ,Ấp\n32002-10,120,Ấp 10\n"))
	var pe *schema.ParseError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, 1, pe.Line)
	require.Contains(t, pe.MsgVI, `"Số hộ"`)
	for in, name := range map[string]string{"Mã ấp,Ấp\n32002-10,Ấp 10\n": "Ấp 10", "Mã ấp,Ấp / Khóm,Loại\n32002-11,Khóm 11,khom\n": "Khóm 11", "code,hamlet\n32002-12,Ấp 12\n": "Ấp 12"} {
		us, err := schema.ParseHamlets(strings.NewReader(in))
		require.NoError(t, err, in)
		require.Equal(t, name, us[0].Name, in)
	}
	// Beside a name column, the hamlet's word may head the types: not
	// taken for a second name.
	_, err = schema.ParseHamlets(strings.NewReader("Mã ấp,Tên,Ấp/Khóm\n32002-10,Ấp 10,ap\n"))
	require.ErrorAs(t, err, &pe)
	require.Contains(t, pe.Msg, `column 3, "Ấp/Khóm", is not known`)
	us, err := schema.ParseHamlets(strings.NewReader("Mã ấp,\n32002-10,Ấp 10\n"))
	require.NoError(t, err)
	require.Equal(t, "Ấp 10", us[0].Name)
}
