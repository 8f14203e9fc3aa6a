package app

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
)

// checker reads a form into field values and says, next to each field,
// what is wrong with it. It checks every field (not just the first bad
// one) with the schema's one check of a write, field by field, so the
// volunteer fixes everything at once; the agent then checks the whole
// write again when it saves, with the same rules.
type checker struct {
	lang   string
	tb     *schema.Table
	today  string
	form   url.Values
	vals   agent.Fields
	errs   map[string]string
	order  []string
	create bool
}

func (a *App) checker(lang, table string, form url.Values, create bool) *checker {
	tb, _ := a.r.Schema().Table(table)
	return &checker{lang: lang, tb: tb, today: a.r.Today(), form: form, vals: agent.Fields{}, errs: map[string]string{}, create: create}
}

func (c *checker) ok() bool { return len(c.errs) == 0 }

// fail puts msg next to the form's field name (a form field may be other
// than the schema's: "outcome-vneid_install").
func (c *checker) fail(name, msg string) {
	if _, dup := c.errs[name]; dup {
		return
	}
	c.errs[name] = msg
	c.order = append(c.order, name)
}

// check validates v for field with the schema: its type and bounds, the
// writer's right to it, no date after tomorrow, and, for a new row, that
// a required field is there.
func (c *checker) check(field string, v any) {
	f, ok := c.tb.Field(field)
	if !ok {
		c.fail(field, (&schema.ValidationError{Table: c.tb.Name, Field: field, Code: schema.CodeUnknownField}).Message(c.lang))
		return
	}
	norm, err := c.tb.CheckWrite(schema.Write{Fields: map[string]any{field: v}, Writer: schema.WriterVolunteer, Today: c.today})
	if err != nil {
		c.failErr(field, err)
		return
	}
	nv := norm[field]
	if nv == nil && f.Required {
		c.fail(field, (&schema.ValidationError{Table: c.tb.Name, Field: field, Code: schema.CodeRequired}).Message(c.lang))
		return
	}
	c.vals[field] = nv
}

// failErr puts an error's message for a volunteer next to field.
func (c *checker) failErr(field string, err error) {
	var ve *schema.ValidationError
	if errors.As(err, &ve) && ve.Field != "" {
		field = ve.Field
	}
	c.fail(field, agent.AppMessageOf(err, c.lang))
}

// text reads a text field (a phone is text the schema normalises).
// text reads a text field with its line ends as typed: browsers send a
// textarea's line break as CR LF, which counted two characters against a
// limit the box counts one (maxlength), and was stored so.
func (c *checker) text(field string) { c.check(field, lineEnds.Replace(c.form.Get(field))) }

// lineEnds turns the line ends browsers send (CR LF, CR) into LF.
var lineEnds = strings.NewReplacer("\r\n", "\n", "\r", "\n")

// date reads a date as people write it (dd/mm/yyyy, or yyyy-mm-dd).
func (c *checker) date(field string) {
	s := strings.TrimSpace(c.form.Get(field))
	if s == "" {
		c.check(field, nil)
		return
	}
	d, err := i18n.ParseDate(s)
	if err != nil {
		c.dateErr(field, err)
		return
	}
	c.check(field, d)
}

// dateTime reads a date with an optional time (Vietnam's), as Unix ms.
func (c *checker) dateTime(field string) {
	s := strings.TrimSpace(c.form.Get(field))
	if s == "" {
		c.check(field, nil)
		return
	}
	t, err := i18n.ParseDateTime(s)
	if err != nil {
		c.dateErr(field, err)
		return
	}
	c.check(field, t.UnixMilli())
}

func (c *checker) dateErr(field string, err error) {
	var de *i18n.DateError
	if errors.As(err, &de) {
		c.fail(field, de.Message(c.lang))
		return
	}
	c.fail(field, agent.AppMessageOf(err, c.lang))
}

// integer reads a whole number ("" is none).
func (c *checker) integer(field string) {
	s := strings.TrimSpace(c.form.Get(field))
	if s == "" {
		c.check(field, nil)
		return
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		c.fail(field, (&schema.ValidationError{Table: c.tb.Name, Field: field, Code: schema.CodeWrongType}).Message(c.lang))
		return
	}
	c.check(field, n)
}

// flag reads a checkbox: ticked is true, not ticked false.
func (c *checker) flag(field string) { c.check(field, c.form.Get(field) == "on") }

// yesNo reads a question answered by two radio buttons ("yes", "no"); no
// answer is none.
func (c *checker) yesNo(field string) {
	switch c.form.Get(field) {
	case "yes":
		c.check(field, true)
	case "no":
		c.check(field, false)
	default:
		c.check(field, nil)
	}
}

// choice reads a select or radio that names an enum value.
func (c *checker) choice(field string) { c.check(field, c.form.Get(field)) }

// hamlet reads the hamlet, which must be one the team covers (en's scope).
func (c *checker) hamlet(field string, en *agent.Enrollment) {
	var scope []agent.Hamlet
	if en != nil {
		scope = en.Scope
	}
	code := strings.TrimSpace(c.form.Get(field))
	if code == "" {
		c.fail(field, tr(c.lang, "err_hamlet_pick"))
		return
	}
	for _, h := range scope {
		if h.Code == code {
			c.check(field, code)
			return
		}
	}
	c.fail(field, (&agent.ScopeError{Hamlet: code, Name: en.HamletName(code), Scope: scope}).Message(c.lang))
}
