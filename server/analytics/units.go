package analytics

import (
	"context"
	"slices"
	"strings"
)

// UnitInfo is an admin unit as the dashboard shows it.
type UnitInfo struct {
	Code       string      `json:"code"`
	Name       string      `json:"name"`
	Display    DisplayName `json:"display_name"` // the name lists show
	Type       string      `json:"type"`
	Level      string      `json:"level"`
	ParentCode string      `json:"parent_code,omitempty"`
	RetiredOn  string      `json:"retired_on,omitempty"`
	Successors []string    `json:"successors,omitempty"`
	Children   int         `json:"children"` // units directly under it, for drill-down
}

// UnitDetail is a unit, the path from the top of the tree down to it, and
// its children.
type UnitDetail struct {
	Unit     UnitInfo   `json:"unit"`
	Path     []UnitInfo `json:"path"`
	Children []UnitInfo `json:"children"`
}

func (x *Index) info(n *node) UnitInfo {
	return UnitInfo{Code: n.Code, Name: n.Name, Display: n.display, Type: n.Type, Level: string(n.Level), ParentCode: n.ParentCode,
		RetiredOn: n.RetiredOn, Successors: n.SuccessorCodes, Children: len(n.children)}
}

// Unit describes a unit in force with its children; a retired or unknown
// unit gives a *UnitError.
func (x *Index) Unit(ctx context.Context, code string) (*UnitDetail, error) {
	if err := x.RefreshUnits(ctx); err != nil {
		return nil, err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	n, err := x.unit(code)
	if err != nil {
		return nil, err
	}
	d := &UnitDetail{Unit: x.info(n), Children: []UnitInfo{}}
	for _, c := range n.children {
		d.Children = append(d.Children, x.info(x.tree.nodes[c]))
	}
	for p, seen := x.tree.nodes[n.ParentCode], 0; p != nil && seen < 16; seen++ {
		d.Path = append(d.Path, x.info(p))
		if p.ParentCode == "" {
			break
		}
		p = x.tree.nodes[p.ParentCode]
	}
	slices.Reverse(d.Path)
	slices.SortFunc(d.Children, func(a, b UnitInfo) int { return strings.Compare(a.Code, b.Code) })
	return d, nil
}

// UnitOf is the hamlet a report belongs to ("" if the report is unknown):
// what an authorisation check needs before it shows the report.
func (x *Index) UnitOf(ctx context.Context, reportID string) (string, error) {
	if err := x.Refresh(ctx); err != nil {
		return "", err
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	i, ok := x.reportIx[reportID]
	if !ok || x.reports[i].deleted || x.reports[i].hamlet < 0 {
		return "", nil
	}
	return x.hamlets[x.reports[i].hamlet], nil
}

// DisplayName is the name lists show for unit code (its code when the
// tree does not know it).
func (x *Index) DisplayName(code string) DisplayName {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.tree.displayName(code)
}
