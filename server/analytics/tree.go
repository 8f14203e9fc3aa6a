package analytics

import (
	"slices"
	"strings"

	"github.com/hamlet-vn/hamlet/schema"
)

// node is one admin unit in the tree in force.
type node struct {
	schema.AdminUnit
	children []string
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
	return t
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
