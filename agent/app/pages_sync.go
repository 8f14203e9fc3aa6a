package app

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// rejectedGroup is what the server refused of one record: a new record
// is refused whole (every field it carried), for the one field at fault.
type rejectedGroup struct {
	Record  string // what the volunteer calls the record ("Nguyễn Văn An", "Lượt thăm hộ · Nguyễn Văn An")
	Link    string // its household's page
	First   int64  // the first refused change: "drop" drops the group from it
	IDs     string // every refused change of the record, for "drop"
	Why     string // what is wrong, in words
	Reason  string // the server's own words, for the scope codes
	Entries []rejectedView
	Fixes   []rejectedView // the fields to correct (the one at fault when known)
	// Drops, set once the volunteer has pressed "drop" on a record the
	// server never took, says what goes off the laptop with the changes:
	// the record itself, and its household's records; the drop then waits
	// for a second press (Confirm).
	Drops   string
	Confirm bool
	Records string // how many records the warning named, posted back with the second press
}

// rejectedView is one refused change, with its fix field.
type rejectedView struct {
	ID        int64
	Table     string
	Field     string
	FieldName string
	Value     string
	Input     string // the value as the fix form shows it for editing
	Kind      string // how the fix form asks: text, date, datetime, bool, enum
	Options   []option
	code      string // the schema's code for what is wrong with it, when known
}

type option struct{ Value, Label string }

// conflictView is a value that lost to a concurrent edit, beside the one
// that won.
type conflictView struct {
	ID                   int64
	Record, Link         string
	FieldName            string
	Deleted              bool // a delete that won over an edit
	Lost, Kept           string
	LostWho, LostWhen    string
	KeptWho, KeptWhen    string
	RestoreLabel, Detail string
}

type syncData struct {
	Bar        bar
	Server     string
	Team       string
	Hamlets    []agent.Hamlet
	ClockWarn  bool
	Offset     string
	ClockBack  bool   // the clock reads earlier than at the last sync (agent.Replica.ClockSetBack)
	Today      string // the date new records take, for ClockBack
	Rejected   []rejectedGroup
	Conflicts  []conflictView
	Enrolled   bool
	LastSyncAt string
	// Notices are the news of the syncs not read yet, oldest first;
	// NoticesUpTo the last one's id, for "read" to dismiss those shown.
	Notices     []noticeView
	NoticesUpTo int64
}

// noticeView is one sync's news (agent.Notice) in the volunteer's words.
type noticeView struct {
	ID    int64
	When  string
	Lines []string
}

func (a *App) syncPage(w http.ResponseWriter, r *http.Request) {
	a.renderSync(w, r, http.StatusOK, nil, nil)
}

// renderSync draws the sync page; errs holds a fix form's problem by its
// field ("fix-12").
func (a *App) renderSync(w http.ResponseWriter, r *http.Request, status int, errs map[string]string, form url.Values) {
	ctx := r.Context()
	lang := a.langOf(r)
	st, err := a.r.Status(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := &syncData{Bar: a.bar(ctx, lang), Enrolled: st.Enrolled, ClockWarn: st.ClockWarn && !st.ClockSetBack, ClockBack: st.ClockSetBack}
	if st.ClockSetBack {
		d.Today = a.r.Today()
	}
	if st.Enrollment != nil {
		d.Server, d.Team, d.Hamlets = st.Enrollment.Server, st.Enrollment.TeamName, st.Enrollment.Scope
	}
	if st.ClockWarn {
		d.Offset = i18n.Duration(st.Offset.Abs(), lang)
	}
	names := a.names(r, st.Enrollment, lang)
	snap, err := a.idx.get(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	rej, err := a.r.Rejected(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d.Rejected = a.rejectedGroups(ctx, rej, lang, snap)
	askToConfirm(d.Rejected, r.URL.Query(), lang)
	cs, err := a.r.Conflicts(ctx, false)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	for _, c := range cs {
		d.Conflicts = append(d.Conflicts, a.conflictView(ctx, c, lang, snap, names))
	}
	ns, err := a.r.Notices(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	for _, n := range ns {
		d.Notices = append(d.Notices, noticeView{ID: n.ID, When: i18n.DateTime(n.At.Add(st.Offset), lang), Lines: noticeLines(n, st.Enrollment, lang)})
		d.NoticesUpTo = n.ID
	}
	// Every card's fix field shows its refused value, but for what the
	// volunteer typed in the one just refused: the other cards keep
	// theirs (an empty field sends the field empty).
	shown := url.Values{}
	for _, g := range d.Rejected {
		for _, x := range g.Fixes {
			shown.Set("fix-"+strconv.FormatInt(x.ID, 10), x.Input)
		}
	}
	for k, vs := range form {
		if strings.HasPrefix(k, "fix-") {
			shown[k] = vs
		}
	}
	v := &view{Page: "sync", Data: d, Errors: errs, Form: shown}
	if r.Method != http.MethodGet {
		v.Path = "/sync" // the language toggle comes back here, not to the POST's address
	}
	switch r.URL.Query().Get("done") {
	case "fixed":
		v.Notice = tr(lang, "done_fixed")
	case "discarded":
		v.Notice = tr(lang, "done_discarded")
	case "left":
		v.Notice = tr(lang, "done_left")
	case "dropped":
		if n, err := strconv.Atoi(r.URL.Query().Get("n")); err == nil && n > 0 {
			v.Notice = trf(lang, "done_dropped_household", i18n.Int(int64(n), lang))
		} else {
			v.Notice = tr(lang, "done_dropped")
		}
	case "restored":
		v.Notice = tr(lang, "done_restored")
	case "kicked":
		v.Notice = tr(lang, "done_kicked")
	case "read":
		v.Notice = tr(lang, "done_read")
	}
	for k := range errs {
		v.Order = append(v.Order, k)
	}
	a.render(w, r, status, "sync", v)
}

// record names a synced row for a person: a household by its head, a
// visit or a record of a household by its kind and household.
func (a *App) record(ctx context.Context, table, id, lang string, snap *snapshot) (name, link string) {
	if table == "households" {
		if h := snap.head(id); h != "" {
			return h, "/households/" + id
		}
		return schema.TableLabel(table, lang) + " " + shortID(id), ""
	}
	name = schema.TableLabel(table, lang)
	if d, err := a.r.Show(ctx, table, id); err == nil {
		if hh := d.Str("household_id"); hh != "" {
			if h := snap.head(hh); h != "" {
				return name + " · " + h, "/households/" + hh
			}
		}
	}
	return name + " " + shortID(id), ""
}

// rejectedGroups puts the refused changes of each record together, in
// the order they were made, and finds the field at fault.
func (a *App) rejectedGroups(ctx context.Context, rej []agent.Rejected, lang string, snap *snapshot) []rejectedGroup {
	var out []rejectedGroup
	at := map[string]int{}
	today := a.r.Today()
	for _, x := range rej {
		i, ok := at[x.Row]
		if !ok {
			g := rejectedGroup{First: x.ID}
			g.Record, g.Link = a.record(ctx, x.Table, x.Row, lang, snap)
			code := syncproto.Code(x.Code)
			g.Why = agent.AppMessageOf(&agent.ServerError{Code: code}, lang)
			if code == syncproto.CodeMovedOutOfScope || code == syncproto.CodeOutOfScope {
				g.Reason = x.Text(lang) // the move or the hamlet, and who may make it
			}
			if x.Why != nil && (x.Why.Key == refusal.HouseholdMissing || x.Why.Key == refusal.RestoreIncomplete) {
				g.Why = x.Text(lang) // what the server lacks, and what fixes it
			}
			out = append(out, g)
			i = len(out) - 1
			at[x.Row] = i
		}
		g := &out[i]
		v := a.rejectedView(ctx, x, lang, today)
		if g.IDs != "" {
			g.IDs += ","
		}
		g.IDs += strconv.FormatInt(x.ID, 10)
		g.Entries = append(g.Entries, v)
		if vc := validationCode(&x); vc != "" && v.code == vc {
			// The server ran the schema's check and names the rule broken;
			// this field breaks it here too: say it as a form would.
			g.Why = (&schema.ValidationError{Table: x.Table, Field: x.Field, Code: vc}).Message(lang)
			g.Fixes = append(g.Fixes, v)
		}
	}
	for i := range out {
		if len(out[i].Fixes) == 0 {
			out[i].Fixes = out[i].Entries // the fault is not one field here: each can be sent again
		}
	}
	return out
}

// askToConfirm marks the card whose drop waits for a second press
// (rejectedDiscard): /sync?confirm=FIRST&n=RECORDS. The page reads what
// goes from the address, not by a preview of its own: a view of the list
// only reads, and never waits for another process's write (review 38c).
func askToConfirm(groups []rejectedGroup, q url.Values, lang string) {
	first, err := strconv.ParseInt(q.Get("confirm"), 10, 64)
	if err != nil {
		return
	}
	for i := range groups {
		if groups[i].First != first {
			continue
		}
		groups[i].Confirm = true
		n, err := strconv.Atoi(q.Get("n"))
		groups[i].Records = strconv.Itoa(max(n, 0))
		if err == nil && n > 0 {
			groups[i].Drops = trf(lang, "drops_household", i18n.Int(int64(n), lang))
		} else {
			groups[i].Drops = tr(lang, "drops_record")
		}
	}
}

func (a *App) rejectedView(ctx context.Context, x agent.Rejected, lang, today string) rejectedView {
	v := rejectedView{ID: x.ID, Table: x.Table, Field: x.Field, FieldName: fieldLabel(x.Field, lang), Value: valueText(x.Table, x.Field, x.Value, lang), Kind: "text"}
	if x.Field == schema.DeletedField {
		v.FieldName = tr(lang, "field_deleted")
	}
	v.Input = str(x.Value)
	if tb, ok := schema.LookupTable(x.Table); ok {
		if _, err := tb.CheckWrite(schema.Write{Fields: map[string]any{x.Field: x.Value}, Writer: schema.WriterVolunteer, Today: today}); err != nil {
			var ve *schema.ValidationError
			if errors.As(err, &ve) {
				v.code = ve.Code
			}
		}
		if f, ok := tb.Field(x.Field); ok {
			switch f.Type {
			case schema.TypeDate:
				v.Kind, v.Input = "date", inputDate(str(x.Value))
			case schema.TypeTime:
				v.Kind = "datetime"
				if ms, ok := x.Value.(int64); ok {
					v.Input = i18n.DateTimeBare(timeMS(ms), "vi")
				}
			case schema.TypeBool:
				v.Kind = "bool"
				v.Options = []option{{"có", tr(lang, "yes")}, {"không", tr(lang, "no")}}
				v.Input = "không"
				if b, _ := x.Value.(bool); b {
					v.Input = "có"
				}
			case schema.TypeEnum:
				v.Kind = "enum"
				for _, e := range schema.EnumValues(f.Enum) {
					v.Options = append(v.Options, option{e, schema.EnumLabel(f.Enum, e, lang)})
				}
			case schema.TypeInt, schema.TypeFloat:
				if x.Value != nil {
					v.Input = valueText(x.Table, x.Field, x.Value, "en")
				}
			}
		}
	}
	if x.Field == schema.ScopeField {
		v.Kind = "enum"
		if en, err := a.r.Enrollment(ctx); err == nil && en != nil {
			for _, h := range en.Scope {
				v.Options = append(v.Options, option{h.Code, hamletText(h.Code, hamletNames(en))})
			}
		}
	}
	return v
}

func (a *App) conflictView(ctx context.Context, c agent.Conflict, lang string, snap *snapshot, names *people) conflictView {
	v := conflictView{ID: c.ID, FieldName: fieldLabel(c.Field, lang),
		Lost: valueText(c.Table, c.Field, c.Loser.Value, lang), Kept: valueText(c.Table, c.Field, c.Winner.Value, lang),
		LostWho: names.of(c.Loser.Origin, c.Loser.Mine), LostWhen: i18n.DateTime(c.Loser.At, lang),
		KeptWho: names.of(c.Winner.Origin, c.Winner.Mine), KeptWhen: i18n.DateTime(c.Winner.At, lang),
		RestoreLabel: tr(lang, "restore_value")}
	v.Record, v.Link = a.record(ctx, c.Table, c.Row, lang, snap)
	if c.Field == schema.ScopeField {
		hn := map[string]string{}
		if en, err := a.r.Enrollment(ctx); err == nil {
			hn = hamletNames(en)
		}
		v.Lost, v.Kept = hamletText(str(c.Loser.Value), hn), hamletText(str(c.Winner.Value), hn)
	}
	if c.Field == syncproto.TombstoneField && c.Loser.Value == false {
		// A delete that won over an edit it never saw (agent/hidden.go).
		v.Deleted = true
		v.FieldName = tr(lang, "conflict_delete")
		v.Lost, v.Kept = tr(lang, "value_kept_edited"), tr(lang, "value_deleted")
		v.RestoreLabel = tr(lang, "restore_record")
		v.Detail = tr(lang, "conflict_delete_detail")
	}
	if v.Lost == "" {
		v.Lost = tr(lang, "value_empty")
	}
	if v.Kept == "" {
		v.Kept = tr(lang, "value_empty")
	}
	return v
}

// noticesRead dismisses the notices the page showed: those up to the
// last one it listed (one kept since stays).
func (a *App) noticesRead(w http.ResponseWriter, r *http.Request) {
	upTo, err := strconv.ParseInt(r.PostForm.Get("upto"), 10, 64)
	if err != nil || upTo <= 0 {
		http.Redirect(w, r, "/sync", http.StatusSeeOther)
		return
	}
	if err := a.r.DismissNotices(r.Context(), upTo); err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/sync?done=read", http.StatusSeeOther)
}

// noticeLines says a notice in lang, a sentence a line, as the command
// line's summary does: the hamlets by name where this laptop knows it.
func noticeLines(n agent.Notice, en *agent.Enrollment, lang string) []string {
	named := func(codes []string) string {
		out := make([]string, len(codes))
		for i, c := range codes {
			out[i] = en.HamletLabel(c) // a hamlet lost keeps its name (Enrollment.Former)
		}
		return strings.Join(out, ", ")
	}
	var lines []string
	if sc := n.Scope; sc != nil {
		// A back-fill cut in earlier syncs ends in one that gained
		// nothing itself (Filled); told together, they name all.
		gained := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(sc.Gained), sc.Filled...))))
		switch {
		case len(gained) > 0 && sc.FilledPart:
			lines = append(lines, trf(lang, "notice_gained_part", named(gained)))
		case len(gained) > 0:
			lines = append(lines, trf(lang, "notice_gained", named(gained), i18n.Int(int64(max(sc.Backfilled, sc.FilledTotal)), lang)))
		}
		switch {
		case len(sc.Lost) > 0 && sc.LostPart:
			lines = append(lines, trf(lang, "notice_lost_part", named(sc.Lost)))
		case len(sc.Lost) > 0:
			lines = append(lines, trf(lang, "notice_lost", named(sc.Lost), i18n.Int(int64(sc.Dropped), lang)))
		}
		if len(sc.Lost) > 0 && sc.KeptEdits > 0 {
			lines = append(lines, trf(lang, "notice_kept", i18n.Int(int64(sc.KeptEdits), lang), tr(lang, "rejected_title")))
		}
	}
	// A resend takes a new id too and says why itself (as the command
	// line's summary): the folder is no copy, the server lost changes;
	// a copy told with a resend is said too (Fork.Copy).
	if n.Fork != nil && (n.Fork.Copy || n.Resent == 0) {
		if n.Fork.Renumbered == 0 {
			lines = append(lines, tr(lang, "notice_fork_none"))
		} else {
			lines = append(lines, trf(lang, "notice_fork", i18n.Int(int64(n.Fork.Renumbered), lang)))
		}
	}
	if n.Resent > 0 {
		lines = append(lines, trf(lang, "notice_resent", i18n.Int(int64(n.Resent), lang)))
	}
	return lines
}

func (a *App) syncNowPost(w http.ResponseWriter, r *http.Request) {
	a.sync.kickNow()
	http.Redirect(w, r, "/sync?done=kicked", http.StatusSeeOther)
}

func formID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// rejectedFix sends a refused change again with the value the volunteer
// corrected on the page (or the same one, once the cause is fixed
// elsewhere).
func (a *App) rejectedFix(w http.ResponseWriter, r *http.Request) {
	id, ok := formID(r)
	if !ok {
		a.notFound(w, r)
		return
	}
	lang := a.langOf(r)
	ctx := r.Context()
	list, err := a.r.Rejected(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	key := "fix-" + strconv.FormatInt(id, 10)
	for _, x := range list {
		if x.ID != id {
			continue
		}
		text := strings.TrimSpace(r.PostForm.Get(key))
		var v any // no field sent, or a field a record must have left empty: the same value again
		if _, sent := r.PostForm[key]; sent && text == "" && !a.required(x.Table, x.Field) {
			v = agent.Clear // the volunteer emptied the field
		}
		if text != "" {
			v, err = agent.ParseFieldValue(x.Table, x.Field, text)
		}
		if err == nil {
			err = a.r.FixRejected(ctx, id, v)
		}
		if err == nil {
			a.sync.kickNow()
			http.Redirect(w, r, "/sync?done=fixed#rejected", http.StatusSeeOther)
			return
		}
		var ve *schema.ValidationError
		var ie *agent.InputError
		var se *agent.ScopeError
		if errors.As(err, &ve) || errors.As(err, &ie) || errors.As(err, &se) {
			a.renderSync(w, r, http.StatusUnprocessableEntity, map[string]string{key: agent.AppMessageOf(err, lang)}, r.PostForm)
			return
		}
		a.fail(w, r, err)
		return
	}
	a.notFound(w, r)
}

// required: a record of table must have field.
func (a *App) required(table, field string) bool {
	tb, ok := a.r.Schema().Table(table)
	if !ok {
		return false
	}
	f, ok := tb.Field(field)
	return ok && f.Required
}

// rejectedDiscard drops a refused record's changes: the id of the
// address, and the others of the same record the form names.
func (a *App) rejectedDiscard(w http.ResponseWriter, r *http.Request) {
	id, ok := formID(r)
	if !ok {
		a.notFound(w, r)
		return
	}
	ids := []int64{id}
	for _, s := range strings.Split(r.PostForm.Get("ids"), ",") {
		if n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && n != id {
			ids = append(ids, n)
		}
	}
	// What goes with the changes: read before they go. A record the
	// server never took leaves the laptop with them, for good, and a
	// household with its records: the volunteer is told, and presses again.
	// Changes dropped meanwhile (a second click, another tab, the CLI)
	// are left out; when none is left, the drop was done.
	held, err := a.r.Rejected(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	ids = slices.DeleteFunc(ids, func(x int64) bool {
		return !slices.ContainsFunc(held, func(h agent.Rejected) bool { return h.ID == x })
	})
	if len(ids) == 0 {
		http.Redirect(w, r, "/sync?done=discarded#rejected", http.StatusSeeOther)
		return
	}
	id = ids[0]
	eff, err := a.r.DiscardPreview(r.Context(), ids)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	// Asked of fewer records than would go now (one more visit logged to
	// the household meanwhile, review 38d): ask again.
	if eff.Whole && (r.PostForm.Get("confirm") != "1" || r.PostForm.Get("n") != strconv.Itoa(eff.Records)) {
		first := strconv.FormatInt(id, 10)
		http.Redirect(w, r, "/sync?confirm="+first+"&n="+strconv.Itoa(eff.Records)+"#rej-"+first, http.StatusSeeOther)
		return
	}
	for _, x := range ids {
		if err := a.r.DiscardRejected(r.Context(), x); err != nil {
			var nf *agent.NotFoundError
			if errors.As(err, &nf) {
				continue // dropped meanwhile (a second click, the CLI)
			}
			a.fail(w, r, err)
			return
		}
	}
	a.idx.invalidate() // a new record dropped whole leaves its table
	done := "discarded"
	switch {
	case eff.Whole:
		done = "dropped&n=" + strconv.Itoa(eff.Records)
	case eff.Leaves:
		done = "left"
	}
	http.Redirect(w, r, "/sync?done="+done+"#rejected", http.StatusSeeOther)
}

func (a *App) conflictRestore(w http.ResponseWriter, r *http.Request) {
	id, ok := formID(r)
	if !ok {
		a.notFound(w, r)
		return
	}
	if _, err := a.r.RestoreConflict(r.Context(), id); err != nil {
		var nf *agent.NotFoundError
		if errors.As(err, &nf) {
			a.notFound(w, r)
			return
		}
		// A delete's conflict on a row that lacks a field every such
		// record needs: not restored; said on its card, which stays.
		var ri *agent.RestoreIncompleteError
		if errors.As(err, &ri) {
			key := "conflict-" + strconv.FormatInt(id, 10)
			a.renderSync(w, r, http.StatusConflict, map[string]string{key: agent.AppMessageOf(err, a.langOf(r))}, nil)
			return
		}
		a.fail(w, r, err)
		return
	}
	a.sync.kickNow()
	http.Redirect(w, r, "/sync?done=restored#conflicts", http.StatusSeeOther)
}

// enrollData is the first-run page.
type enrollData struct {
	Enrolled *agent.Enrollment
	Server   string // the address offered (Config.Server)
	// LeftOut is the replica (short id) whose enrollment a repair left
	// out (agent.Replica.EnrollmentLeftOut): the page says to have its
	// old device revoked before the new code, not "first time here".
	LeftOut string
}

func (a *App) enrollPage(w http.ResponseWriter, r *http.Request) {
	en, err := a.r.Enrollment(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	d := &enrollData{Enrolled: en, Server: a.cfg.Server, LeftOut: leftOut(r.Context(), a.r, en)}
	form := url.Values{"server": {a.cfg.Server}, "label": {a.cfg.Label}}
	a.render(w, r, http.StatusOK, "enroll", &view{Page: "enroll", Form: form, Data: d})
}

// enrollPost enrolls the laptop with the code the team leader gave: the
// server gives the team, its hamlets and a token; the sync then starts and
// brings the team's records.
func (a *App) enrollPost(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := a.langOf(r)
	en, err := a.r.Enrollment(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	code := r.PostForm.Get("code") // EnrollWith cleans it (agent.CleanCode)
	server := strings.TrimSpace(r.PostForm.Get("server"))
	if server == "" {
		server = a.cfg.Server
	}
	label := strings.TrimSpace(r.PostForm.Get("label"))
	if label == "" {
		label = a.cfg.Label
	}
	if label == "" {
		label, _ = os.Hostname()
	}
	errs := map[string]string{}
	var order []string
	bad := func(field, msg string) {
		errs[field] = msg
		order = append(order, field)
	}
	if syncproto.CleanEnrollCode(code) == "" {
		bad("code", tr(lang, "err_code_missing"))
	}
	if server == "" {
		bad("server", tr(lang, "err_server_missing"))
	} else if _, err := agent.NormalizeServerURL(server); err != nil {
		bad("server", tr(lang, "err_server_bad"))
	}
	if err := agent.CheckLabel(label); err != nil {
		bad("label", agent.AppMessageOf(err, lang))
	}
	problem := ""
	if len(errs) == 0 {
		_, _, err := a.r.EnrollWith(ctx, server, code, label, func(token string) error { return agent.WriteToken(a.cfg.TokenPath, token) })
		if err == nil {
			a.sync.kickNow() // the first sync brings the team's records
			http.Redirect(w, r, "/?done=enrolled", http.StatusSeeOther)
			return
		}
		err = agent.EnrollFailure(err, a.cfg.TokenPath)
		var se *agent.ServerError
		var ce *agent.ConnectError
		var ime *agent.InputMethodError
		var te *agent.ThrottledError
		var ae *agent.AlreadyEnrolledError
		var cfe *agent.CodeFormError
		var pce *agent.PasteCodeOnlyError
		switch {
		case errors.As(err, &ae):
			problem = agent.AppMessageOf(err, lang)
		case errors.As(err, &ime), errors.As(err, &te), errors.As(err, &cfe), errors.As(err, &pce): // the code to mend, not sent
			bad("code", agent.AppMessageOf(err, lang))
		case errors.As(err, &se) && se.Status != 0 && se.Status < 500:
			bad("code", agent.AppMessageOf(err, lang)) // the code: wrong, used or expired
		case errors.As(err, &ce):
			bad("server", agent.AppMessageOf(err, lang))
		default:
			problem = agent.AppMessageOf(err, lang)
		}
	}
	a.render(w, r, http.StatusUnprocessableEntity, "enroll", &view{Page: "enroll", Form: r.PostForm, Errors: errs, Order: order, Problem: problem,
		Data: &enrollData{Enrolled: en, Server: a.cfg.Server, LeftOut: leftOut(ctx, a.r, en)}})
}

// leftOut is enrollData.LeftOut: the replica whose enrollment a repair
// left out, when the laptop is not enrolled since.
func leftOut(ctx context.Context, r *agent.Replica, en *agent.Enrollment) string {
	if en != nil {
		return ""
	}
	return r.NotEnrolled(ctx).LeftOut
}

// validationCode finds the schema's code in a refusal's reason: its key,
// or in a server's text before reasons were data, the prefix it wrote
// ("in_future: ...").
func validationCode(x *agent.Rejected) string {
	if x.Why != nil {
		if x.Why.Key == refusal.RequiredInNewRow {
			return schema.CodeRequired
		}
		return x.Why.Key
	}
	reason := x.Reason
	for _, c := range []string{schema.CodeRequired, schema.CodeWrongType, schema.CodeTooLong, schema.CodeOutOfRange, schema.CodeUnknownEnum,
		schema.CodeInvalidPhone, schema.CodeInvalidDate, schema.CodeInvalidUUID, schema.CodeInvalidHamlet, schema.CodeReadOnly, schema.CodeInFuture} {
		if strings.HasPrefix(reason, c+":") || strings.Contains(reason, ": "+c+":") {
			return c
		}
	}
	return ""
}

func timeMS(ms int64) time.Time { return time.UnixMilli(ms) }
