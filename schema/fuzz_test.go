package schema_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hamlet-vn/hamlet/schema"
)

// Seeds beyond f.Add live in testdata/fuzz/<FuzzName>/.

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"0912345678", "+84 912 345 678", "02903.123.456", "84912345678", "+840912345678", "", "0912\u00a0345\u00a0678", "\u200b+84\u202f912 345 678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := schema.NormalizePhone(in)
		if err != nil {
			var digits strings.Builder
			for _, r := range in {
				if r >= '0' && r <= '9' {
					digits.WriteRune(r)
				}
			}
			if digits.Len() >= 6 && strings.Contains(err.Error(), digits.String()) {
				t.Fatalf("error %q leaks the number", err)
			}
			return
		}
		if len(got) != 10 && len(got) != 11 || got[0] != '0' {
			t.Fatalf("%q normalised to non-canonical %q", in, got)
		}
		if len(got) == 11 && got[1] != '2' {
			t.Fatalf("%q: 11 digits must be a 02 landline, got %q", in, got)
		}
		again, err := schema.NormalizePhone(got)
		if err != nil || again != got {
			t.Fatalf("canonical %q is not a fixed point: %q, %v", got, again, err)
		}
	})
}

func FuzzParseUnits2025(f *testing.F) {
	f.Add([]byte(header2025 + "A,xa,x,32167,32164;32167,1\n"))
	f.Add([]byte(header2025 + "A,xa,x,32167,32164*,1\nB,phuong,\"y, z\",32168,32164*;32170,2\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		units, err := schema.ParseUnits2025(bytes.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error does not name a line: %v", err)
			}
			return
		}
		if len(units) == 0 || units[0].Level != schema.LevelProvince {
			t.Fatalf("first unit must be the province: %+v", units)
		}
		seen := map[string]bool{}
		shares := map[string][]bool{}
		for _, u := range units {
			if err := u.Validate(); err != nil {
				t.Fatalf("parsed unit does not validate: %v", err)
			}
			if seen[u.Code] {
				t.Fatalf("code %s twice", u.Code)
			}
			seen[u.Code] = true
			for _, p := range u.FormedFrom {
				shares[p.Code] = append(shares[p.Code], p.Partial)
			}
		}
		for code, s := range shares {
			if s[0] && len(s) < 2 || !s[0] && len(s) != 1 {
				t.Fatalf("predecessor %s has inconsistent shares %v", code, s)
			}
		}
	})
}

// FuzzParseUnits2022: any file either fails with an error naming its line
// or yields the province, then districts and communes that validate, each
// code once, each commune under a district of the file.
func FuzzParseUnits2022(f *testing.F) {
	f.Add([]byte(header2022 + "Cà Mau,thanh_pho,Phường 9,phuong,964,31999\n"))
	f.Add([]byte(header2022 + "Cà Mau,thanh_pho,Phường 9,phuong,964,31999\nCà Mau,thanh_pho,Phường 4,phuong,964,32002\nU Minh,huyen,\"Khánh An, xã\",xa,966,32155\n"))
	f.Add([]byte(header2022 + "Cà Mau,thanh_pho,Phường 9,phuong,964,31999\nCà Mau,huyen,Phường 4,phuong,964,32002\n"))
	f.Add([]byte(header2022))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, in []byte) {
		units, err := schema.ParseUnits2022(bytes.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error does not name a line: %v", err)
			}
			return
		}
		if len(units) == 0 || units[0].Level != schema.LevelProvince {
			t.Fatalf("first unit must be the province: %+v", units)
		}
		seen := map[string]schema.Level{}
		for i, u := range units {
			if err := u.Validate(); err != nil {
				t.Fatalf("parsed unit does not validate: %v", err)
			}
			if _, dup := seen[u.Code]; dup {
				t.Fatalf("code %s twice", u.Code)
			}
			seen[u.Code] = u.Level
			switch u.Level {
			case schema.LevelDistrict:
				if u.ParentCode != units[0].Code {
					t.Fatalf("district %s is not under the province", u.Code)
				}
			case schema.LevelCommune:
				if seen[u.ParentCode] != schema.LevelDistrict {
					t.Fatalf("commune %s is not under a district listed before it", u.Code)
				}
			default:
				if i > 0 {
					t.Fatalf("unit %s has level %s", u.Code, u.Level)
				}
			}
		}
	})
}

// FuzzParseHamletMoves: a reorganisation's hamlets file either names the
// line to fix or gives well-formed moves, each hamlet once.
func FuzzParseHamletMoves(f *testing.F) {
	f.Add([]byte("hamlet_code,commune_code\n32155-01,32152\n32155-02,32155\n"))
	f.Add([]byte("\ufeffcommune_code,hamlet_code,note\r\n32152,32155-01,\"a, b\"\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		moves, err := schema.ParseHamletMoves(bytes.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error does not name a line: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, m := range moves {
			if schema.ValidateHamletCode(m.Hamlet) != nil || len(m.Commune) != 5 || m.Line < 2 {
				t.Fatalf("malformed move accepted: %+v", m)
			}
			if seen[m.Hamlet] {
				t.Fatalf("hamlet %s twice", m.Hamlet)
			}
			seen[m.Hamlet] = true
		}
	})
}

// FuzzParseHamlets: unit add-hamlets' file either names the line to fix
// or gives valid hamlets, each once.
func FuzzParseHamlets(f *testing.F) {
	f.Add([]byte("code,name,type\n32002-05,Khóm 5,khom\n"))
	f.Add([]byte("\ufeff32002-08;Khóm 8\n;\n32002-09;\"Ấp 9; Kênh\"\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		hs, err := schema.ParseHamlets(bytes.NewReader(in))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "line ") {
				t.Fatalf("error does not name a line: %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, h := range hs {
			if err := h.Validate(); err != nil {
				t.Fatalf("parsed hamlet does not validate: %v", err)
			}
			if seen[h.Code] {
				t.Fatalf("hamlet %s twice", h.Code)
			}
			seen[h.Code] = true
		}
	})
}
