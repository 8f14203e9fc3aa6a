package analytics

import (
	"cmp"
	"slices"
	"strings"

	"github.com/hamlet-vn/hamlet/schema"
)

// node is one admin unit in the tree in force.
type node struct {
	schema.AdminUnit
	children []string
	display  DisplayName // the name lists show (schema.UnitNames)
}

// DisplayName is a unit's name as a list shows it, in both languages:
// its name, and where another unit under the same parent has the same
// name, what tells them apart ("Khóm 1 (Phường 4 cũ)"; schema.UnitNames).
// Pages, the API and the exports name units by it.
type DisplayName struct {
	VI string `json:"vi"`
	EN string `json:"en"`
}

// In is the name in lang ("en" or Vietnamese).
func (d DisplayName) In(lang string) string {
	if strings.HasPrefix(lang, "en") && d.EN != "" {
		return d.EN
	}
	return d.VI
}

// tree indexes the units by code, with children lists in code order.
type tree struct {
	nodes map[string]*node
	root  []string // units without a parent (the province)
}

func buildTree(units []schema.AdminUnit) *tree {
	t := &tree{nodes: make(map[string]*node, len(units))}
	for _, u := range units {
		t.nodes[u.Code] = &node{AdminUnit: u}
	}
	for _, u := range units {
		if u.RetiredOn != "" {
			continue // retired units keep their record but hold no children
		}
		if p, ok := t.nodes[u.ParentCode]; ok && u.ParentCode != "" {
			p.children = append(p.children, u.Code)
		} else if u.ParentCode == "" {
			t.root = append(t.root, u.Code)
		}
	}
	for _, n := range t.nodes {
		slices.SortFunc(n.children, strings.Compare)
	}
	vi, en := schema.UnitNames(units, "vi"), schema.UnitNames(units, "en")
	for code, n := range t.nodes {
		n.display = DisplayName{VI: cmp.Or(vi[code], n.Name), EN: cmp.Or(en[code], n.Name)}
	}
	return t
}

// displayName is a unit's display name, or its code when the tree does not
// know it.
func (t *tree) displayName(code string) DisplayName {
	if t == nil {
		return DisplayName{VI: code, EN: code}
	}
	if n, ok := t.nodes[code]; ok {
		return n.display
	}
	return DisplayName{VI: code, EN: code}
}

// within reports whether unit code lies under (or is) ancestor in the tree
// in force. Retired units lie nowhere.
func (t *tree) within(code, ancestor string) bool {
	for seen := 0; code != "" && seen < 16; seen++ {
		if code == ancestor {
			return true
		}
		n, ok := t.nodes[code]
		if !ok || n.RetiredOn != "" {
			return false
		}
		code = n.ParentCode
	}
	return false
}

// childUnder returns the child of ancestor on the path down to code, or ""
// when code is not under ancestor (or is ancestor itself).
func (t *tree) childUnder(code, ancestor string) (string, bool) {
	prev := ""
	for seen := 0; code != "" && seen < 16; seen++ {
		if code == ancestor {
			return prev, true
		}
		n, ok := t.nodes[code]
		if !ok || n.RetiredOn != "" {
			return "", false
		}
		prev, code = code, n.ParentCode
	}
	return "", false
}

// descendants lists every unit of the given level under code.
func (t *tree) descendants(code string, level schema.Level) []string {
	var out []string
	var walk func(string)
	walk = func(c string) {
		n := t.nodes[c]
		if n == nil {
			return
		}
		if n.Level == level {
			out = append(out, c)
		}
		for _, ch := range n.children {
			walk(ch)
		}
	}
	walk(code)
	return out
}
