package app

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
)

// Every page, style and script is in the binary: nothing is fetched from
// anywhere but the app itself.
//
//go:embed web
var webFS embed.FS

// pageNames are the templates under web/templates, each with the layout.
var pageNames = []string{"home", "households", "household", "household_form", "visit_form", "reports", "report", "report_form", "sync", "enroll", "problem"}

type pages struct {
	byLang  map[string]map[string]*template.Template
	refused *template.Template
	opening *template.Template
	static  map[string]staticFile
}

type staticFile struct {
	body []byte
	typ  string
	tag  string // content hash: the asset's URL carries it, so it can be cached for good
}

func loadPages() (*pages, error) {
	p := &pages{byLang: map[string]map[string]*template.Template{}, static: map[string]staticFile{}}
	err := fs.WalkDir(webFS, "web/static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := webFS.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		typ := mime.TypeByExtension(path.Ext(name))
		if typ == "" {
			typ = "application/octet-stream"
		}
		p.static[path.Base(name)] = staticFile{body: b, typ: typ, tag: hex.EncodeToString(sum[:6])}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, lang := range []string{"vi", "en"} {
		p.byLang[lang] = map[string]*template.Template{}
		for _, name := range pageNames {
			t, err := template.New(name).Funcs(p.funcs(lang)).ParseFS(webFS, "web/templates/layout.html", "web/templates/"+name+".html")
			if err != nil {
				return nil, fmt.Errorf("app: template %s: %w", name, err)
			}
			p.byLang[lang][name] = t
		}
	}
	p.refused, err = template.ParseFS(webFS, "web/templates/refused.html")
	if err != nil {
		return nil, fmt.Errorf("app: template refused: %w", err)
	}
	p.opening, err = template.ParseFS(webFS, "web/templates/opening.html")
	if err != nil {
		return nil, fmt.Errorf("app: template opening: %w", err)
	}
	return p, nil
}

// funcs are the templates' helpers, bound to one language: every word a
// page shows comes from the catalog (t, tf) or from the schema's labels.
func (p *pages) funcs(lang string) template.FuncMap {
	return template.FuncMap{
		"lang": func() string { return lang },
		"t": func(key string) (string, error) {
			txt, ok := catalog()[key]
			if !ok {
				return "", fmt.Errorf("no catalog entry %q", key)
			}
			return txt.In(lang), nil
		},
		"tf": func(key string, args ...any) (string, error) {
			txt, ok := catalog()[key]
			if !ok {
				return "", fmt.Errorf("no catalog entry %q", key)
			}
			return fmt.Sprintf(txt.In(lang), args...), nil
		},
		"field":    func(name string) string { return fieldLabel(name, lang) },
		"enum":     func(enum, v string) string { return schema.EnumLabel(enum, v, lang) },
		"date":     func(s string) string { return showDate(s, lang) },
		"datetime": func(t time.Time) string { return i18n.DateTime(t, lang) },
		"num":      func(n int) string { return i18n.Int(int64(n), lang) },
		"pct":      func(x float64) string { return i18n.Decimal(100*x, 1, lang) + " %" },
		"static": func(name string) (string, error) {
			f, ok := p.static[name]
			if !ok {
				return "", fmt.Errorf("no static file %q", name)
			}
			return "/static/" + name + "?v=" + f.tag, nil
		},
		"query": func(base string, kv ...string) string { return withQuery(base, kv...) },
		"fld":   func(v *view, table, name string) control { return newControl(v, table, name, lang) },
		"chk": func(v *view, table, name string) control {
			c := newControl(v, table, name, lang)
			c.On = v.Checked(name, "on")
			return c
		},
		"add": func(a, b int) int { return a + b },
	}
}

// showDate writes a stored date as people read it (dd/mm/yyyy in
// Vietnamese, i18n.DateText); "" for none.
func showDate(s, lang string) string {
	if s == "" {
		return ""
	}
	return i18n.DateText(s, lang)
}

// inputDate is a stored date as a date field shows it for editing: always
// day first (dd/mm/yyyy), the form i18n.ParseDate reads back, whatever
// the language.
func inputDate(s string) string {
	if s == "" {
		return ""
	}
	return i18n.DateText(s, "vi")
}

// fieldLabel is a field's name for a person, capitalised.
func fieldLabel(name, lang string) string {
	s := schema.FieldLabel(name, lang)
	for i, r := range s {
		return strings.ToUpper(string(r)) + s[i+len(string(r)):]
	}
	return s
}

// withQuery is base with the given key/value pairs set (empty values
// dropped): the links of filters and pages.
func withQuery(base string, kv ...string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// view is what every page's template gets.
type view struct {
	Lang     string
	Page     string // the nav entry this page is under
	Title    string
	Path     string // this page's address, for the language toggle to come back to
	CSRF     string
	Enrolled bool
	Bar      bar
	Notice   string
	Problem  string            // what went wrong, not tied to one field
	Errors   map[string]string // field -> what is wrong with it
	Order    []string          // the fields with errors, in the form's order
	Form     url.Values        // what was typed, shown again after a refusal
	Data     any
}

// Val is what the form holds for a field (what was typed, else the value
// the page filled in).
func (v *view) Val(name string) string {
	if v.Form == nil {
		return ""
	}
	return v.Form.Get(name)
}

// Focus reports whether name is the first field with a problem: the one
// the page puts the cursor in.
func (v *view) Focus(name string) bool { return len(v.Order) > 0 && v.Order[0] == name }

// Err is the message for a field, "" when none.
func (v *view) Err(name string) string { return v.Errors[name] }

// Checked reports whether a checkbox or radio holds value.
func (v *view) Checked(name, value string) bool {
	if v.Form == nil {
		return false
	}
	for _, x := range v.Form[name] {
		if x == value {
			return true
		}
	}
	return false
}

// render writes a page. A template that fails (a missing catalog entry)
// is a bug: the volunteer gets the problem page rather than half a page.
func (a *App) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	v.Lang = a.langOf(r)
	v.CSRF = a.csrf
	if v.Path == "" {
		v.Path = r.URL.RequestURI()
	}
	if v.Title == "" {
		v.Title = tr(v.Lang, "title_"+name)
	}
	en, _ := a.r.Enrollment(r.Context())
	v.Enrolled = en != nil
	v.Bar = a.bar(r.Context(), v.Lang)
	var buf bytes.Buffer
	if err := a.pages.byLang[v.Lang][name].ExecuteTemplate(&buf, "layout", v); err != nil {
		a.log.Error("page failed", "page", name, "err", err)
		http.Error(w, tr(v.Lang, "page_failed"), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	// Pages hold personal data: the browser keeps no copy on a shared laptop.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fragment writes one named template of a page alone (what app.js swaps
// in as the volunteer types).
func (a *App) fragment(w http.ResponseWriter, r *http.Request, page, name string, v *view) {
	v.Lang = a.langOf(r)
	var buf bytes.Buffer
	if err := a.pages.byLang[v.Lang][page].ExecuteTemplate(&buf, name, v); err != nil {
		a.log.Error("fragment failed", "page", page, "err", err)
		http.Error(w, tr(v.Lang, "page_failed"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func (a *App) serveStatic(w http.ResponseWriter, r *http.Request) {
	f, ok := a.pages.static[r.PathValue("name")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.typ)
	if r.URL.Query().Get("v") == f.tag {
		h.Set("Cache-Control", "private, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("ETag", `"`+f.tag+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

// control is one form field as the "text", "textarea" and "check"
// templates draw it: its label, what it holds, its message.
type control struct {
	Name, Label, Val, Err, Hint string
	Type, Mode, Place, Auto     string
	Req, Focus, On              bool
	Max                         int
}

// newControl describes field name of table (a schema field: its label,
// whether it is required, its length, the keyboard it wants), or a field of
// a form of the app's own (table ""; its label is "label_"+name).
func newControl(v *view, table, name, lang string) control {
	c := control{Name: name, Val: v.Val(name), Err: v.Err(name), Type: "text", Auto: "off"}
	c.Focus = v.Focus(name)
	if h, ok := catalog()["hint_"+name]; ok {
		c.Hint = h.In(lang)
	}
	if table == "" {
		c.Label = tr(lang, "label_"+name)
		return c
	}
	c.Label = fieldLabel(name, lang)
	tb, ok := schema.LookupTable(table)
	if !ok {
		return c
	}
	f, ok := tb.Field(name)
	if !ok {
		return c
	}
	c.Req, c.Max = f.Required, f.MaxLen
	switch f.Type {
	case schema.TypePhone:
		c.Type, c.Mode, c.Max = "tel", "tel", 20
	case schema.TypeInt:
		c.Mode, c.Max = "numeric", 4
	case schema.TypeDate:
		c.Max = 10
	case schema.TypeTime:
		c.Max = 16
	}
	return c
}
