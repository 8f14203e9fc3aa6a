package schema

import (
	"fmt"
	"strings"
)

// unitTypeWords name the commune types as a name is written with them:
// "xã An Xuyên", "phường Tân Xuyên"; {vi, en}.
var unitTypeWords = map[string][2]string{
	"xa":       {"xã", "commune"},
	"phuong":   {"phường", "ward"},
	"thi_tran": {"thị trấn", "township"},
	"dac_khu":  {"đặc khu", "special zone"},
}

// fullCommuneName is a commune's name with its type, as documents write
// it: "Phường 4" as it is, "Tân Xuyên" of type phuong as "phường Tân
// Xuyên".
func fullCommuneName(u AdminUnit) string {
	w, ok := unitTypeWords[u.Type]
	if !ok || strings.HasPrefix(strings.ToLower(u.Name), w[0]+" ") {
		return u.Name
	}
	return w[0] + " " + u.Name
}

// UnitNames gives each unit in force of units the name a list shows: its
// own name, and where another unit in force under the same parent has the
// same name, what tells them apart. After the 2025 merger ward 32002 (An
// Xuyên) holds five hamlets called "Khóm 1", from five former communes: a
// hamlet is told apart by the commune it belonged to before, whose code
// starts its own (HamletCode): "Khóm 1 (Phường 4 cũ)", in English "Khóm 1
// (former Phường 4)". Where that does not tell them apart either, by its
// code: "Khóm 1 (mã 32002-01)". Units with a name of their own keep it.
//
// The former commune's name comes from units (a retired unit keeps its
// record) or, where the 2025 merger gave its code to the new unit (32002
// was Phường 4 and is now An Xuyên), from the 2022 reference data. The
// dashboard's lists, the API and the exports all name units through it.
func UnitNames(units []AdminUnit, lang string) map[string]string {
	names := make(map[string]string, len(units))
	type key struct{ parent, name string }
	groups := map[key][]AdminUnit{}
	for _, u := range units {
		if u.RetiredOn != "" {
			continue
		}
		names[u.Code] = u.Name
		k := key{u.ParentCode, strings.ToLower(strings.TrimSpace(u.Name))}
		groups[k] = append(groups[k], u)
	}
	var former map[string]string // commune code → its name before 2025, built once when needed
	formerOf := func(u AdminUnit) string {
		if former == nil {
			former = map[string]string{}
			for _, c := range embedded2022() {
				if c.Level == LevelCommune {
					former[c.Code] = fullCommuneName(c)
				}
			}
			for _, c := range units {
				// A retired commune's own record; a code in force keeps the
				// 2022 name it had, when the reference data knows it.
				if c.Level == LevelCommune && (c.RetiredOn != "" || former[c.Code] == "") {
					former[c.Code] = fullCommuneName(c)
				}
			}
		}
		if u.Level != LevelHamlet || ValidateHamletCode(u.Code) != nil {
			return ""
		}
		return former[u.Code[:5]]
	}
	en := en(lang)
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		seen := map[string]int{}
		for _, u := range g {
			seen[formerOf(u)]++
		}
		for _, u := range g {
			f := formerOf(u)
			switch {
			case f != "" && seen[f] == 1 && en:
				names[u.Code] = fmt.Sprintf("%s (former %s)", u.Name, f)
			case f != "" && seen[f] == 1:
				names[u.Code] = fmt.Sprintf("%s (%s cũ)", u.Name, f)
			case en:
				names[u.Code] = fmt.Sprintf("%s (code %s)", u.Name, u.Code)
			default:
				names[u.Code] = fmt.Sprintf("%s (mã %s)", u.Name, u.Code)
			}
		}
	}
	return names
}
