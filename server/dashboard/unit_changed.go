package dashboard

import (
	"errors"
	"net/http"
	"strings"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

// The page of an account whose unit a reorganisation changed
// (server/unit_review.go): until the operator confirms its unit it sees
// this page instead of any data.

// unitChangedView is the page an account awaiting confirmation signs in to.
type unitChangedView struct {
	Username, UnitCode, UnitName, Since string
	Retired                             bool
	Successors                          string // "32002 An Xuyên, ..."
	Operators                           string // operator accounts' names, who can confirm
}

// renderUnitChanged is every dashboard page for an account awaiting
// confirmation: what changed and who can confirm it, and no data.
func (d *Dashboard) renderUnitChanged(w http.ResponseWriter, r *http.Request, c *webCtx) {
	v := &unitChangedView{Username: c.User.Username, UnitCode: c.User.UnitCode, Since: i18n.DateText(c.User.UnitChangedOn, c.Lang)}
	units, err := d.dir.Units(r.Context(), "", "")
	if err != nil {
		d.webError(w, r, c, err)
		return
	}
	name := map[string]string{}
	for _, u := range units {
		name[u.Code] = u.Name
		if u.Code == v.UnitCode {
			v.UnitName, v.Retired = u.Name, u.RetiredOn != ""
		}
	}
	var succ []string
	for _, code := range server.Successors(units, v.UnitCode) {
		succ = append(succ, code+" "+name[code])
	}
	v.Successors = strings.Join(succ, ", ")
	users, err := d.dir.Users(r.Context())
	if err != nil && !errors.Is(err, server.ErrNotFound) {
		d.webError(w, r, c, err)
		return
	}
	var ops []string
	for _, u := range users {
		if u.Role == analytics.RoleOperator && u.Disabled == nil {
			ops = append(ops, u.DisplayName)
		}
	}
	v.Operators = strings.Join(ops, ", ")
	d.render(w, r, http.StatusForbidden, "unit_changed", &webPage{Title: "unit_changed_title", User: &c.User, CSRF: c.CSRF,
		Lang: c.Lang, CanSync: false, Body: v})
}
