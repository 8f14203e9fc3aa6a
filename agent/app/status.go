package app

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// bar is the sync status every page shows in its header, and the sync
// page in full; /sync/status gives the same as JSON for app.js to refresh
// it while the page is open.
type bar struct {
	Class       string `json:"class"` // ok, busy, offline, stopped, waiting
	Text        string `json:"text"`  // one line for the header
	Detail      string `json:"detail"`
	Pending     int    `json:"pending"`
	PendingText string `json:"pending_text"`
	Rejected    int    `json:"rejected"`
	Conflicts   int    `json:"conflicts"`
	Notices     int    `json:"notices"`   // news of the syncs not read yet (agent.Notice)
	Attention   int    `json:"attention"` // refused changes, conflicts and notices: someone must look
	LastSync    string `json:"last_sync"`
	Busy        bool   `json:"busy"`
	Done        int    `json:"done"`
	Total       int    `json:"total"`
	Progress    string `json:"progress"`
	Error       string `json:"error"`
	// EnrollAgain: the sync stopped because the server refuses this
	// laptop's token (revoked, or unknown): a new code is what helps, and
	// the sync page offers its button; for a damaged file or a full disk
	// it would mislead.
	EnrollAgain bool `json:"enroll_again"`
	// Photos of this laptop's reports the server has not confirmed, and
	// why the last transfer left them (the volunteer's language): the
	// app's sync sends them by itself.
	// Unfinished, while a download of the team's data cut before its end
	// waits for the next sync to resume it: the pages show only part of
	// the team's records (coverage, the work list, a search).
	Unfinished    string `json:"unfinished"`
	PhotosWaiting int    `json:"photos_waiting"`
	PhotosText    string `json:"photos_text"`
	PhotosWhy     string `json:"photos_why"`
}

func (a *App) bar(ctx context.Context, lang string) bar {
	st := a.sync.state()
	var b bar
	s, err := a.r.Status(ctx)
	if err != nil {
		b.Class, b.Text, b.Error = "stopped", tr(lang, "bar_error"), agent.AppMessageOf(err, lang)
		return b
	}
	b.Pending, b.Rejected, b.Conflicts = s.Pending, s.Rejected, s.Conflicts
	if s.Rejected > 0 {
		// A new record is refused whole, every field: one thing to look at.
		if rej, err := a.r.Rejected(ctx); err == nil {
			rows := map[string]bool{}
			for _, x := range rej {
				rows[x.Row] = true
			}
			b.Rejected = len(rows)
		}
	}
	if ns, err := a.r.Notices(ctx); err == nil {
		b.Notices = len(ns)
	}
	b.Attention = b.Rejected + s.Conflicts + b.Notices
	b.PendingText = i18n.Int(int64(s.Pending), lang)
	if s.LastSync != nil {
		// Recorded by the laptop's clock: shown by the server's.
		b.LastSync = i18n.DateTime(s.LastSync.Add(s.Offset), lang)
	}
	if st.Err != nil {
		b.Error = agent.AppMessageOf(st.Err, lang)
		var re *agent.RevokedError
		var se *agent.ServerError
		var ne *agent.NotEnrolledError // enrolled, its token file gone
		b.EnrollAgain = st.Phase == "stopped" && (errors.As(st.Err, &re) || errors.As(st.Err, &ne) ||
			errors.As(st.Err, &se) && (se.Code == syncproto.CodeTokenRevoked || se.Code == syncproto.CodeUnauthorized))
	}
	switch {
	case !s.Enrolled:
		b.Class, b.Text = "waiting", tr(lang, "bar_unenrolled")
	case st.Phase == "stopped":
		b.Class, b.Text = "stopped", tr(lang, "bar_stopped")
	case st.Busy:
		b.Class, b.Text, b.Busy = "busy", tr(lang, "bar_busy"), true
		b.Done, b.Total = st.Progress.Done, st.Progress.Total
		b.Progress = progressText(st.Progress, lang)
	case st.Phase == "command":
		b.Class, b.Text = "busy", tr(lang, "bar_command")
	case st.Phase == "offline" && dropped(st.Err):
		b.Class, b.Text = "offline", trf(lang, "bar_dropped", i18n.Int(int64(s.Pending), lang))
	case st.Phase == "offline":
		b.Class, b.Text = "offline", trf(lang, "bar_offline", i18n.Int(int64(s.Pending), lang))
	case st.Phase == "online" && s.Pending == 0:
		b.Class, b.Text = "ok", tr(lang, "bar_ok")
	case st.Phase == "online":
		b.Class, b.Text = "busy", trf(lang, "bar_sending", i18n.Int(int64(s.Pending), lang))
	default:
		b.Class, b.Text = "busy", tr(lang, "bar_connecting")
	}
	if b.Attention > 0 && b.Class != "stopped" {
		b.Text += " · " + trf(lang, "bar_attention", i18n.Int(int64(b.Attention), lang))
	}
	if s.Enrolled {
		b.photos(ctx, a.r, st, lang)
		if b.PhotosWaiting > 0 && b.Class != "stopped" {
			b.Text += " · " + photosCount(b.PhotosWaiting, lang)
		}
	}
	if s.CloneTotal > 0 && !st.Busy {
		b.Unfinished = trf(lang, "clone_unfinished", i18n.Int(int64(s.CloneDone), lang), i18n.Int(int64(s.CloneTotal), lang))
	}
	b.Detail = detailText(st, s, lang)
	if st.Moved != "" {
		b.Detail += " " + trf(lang, "sync_server_moved", st.Moved)
	}
	return b
}

// photos fills in the photos that wait to be sent, and why.
func (b *bar) photos(ctx context.Context, r *agent.Replica, st syncState, lang string) {
	n, err := r.PhotosUnsent(ctx)
	if err != nil || n == 0 {
		return
	}
	b.PhotosWaiting = n
	key := "photos_waiting"
	if n == 1 {
		key = "photos_waiting_one"
	}
	b.PhotosText = trf(lang, key, photosCount(n, lang))
	if st.PhotoErr != nil {
		b.PhotosWhy = trf(lang, "photos_why", agent.AppMessageOf(st.PhotoErr, lang))
	}
	if st.PhotoBusy && !b.Busy {
		b.Busy = true // the bar under the line: the records may well be synced
		b.Done, b.Total = st.PhotoProgress.Done, st.PhotoProgress.Total
		b.Progress = trf(lang, "progress_photos", i18n.Bytes(int64(st.PhotoProgress.Done), lang), i18n.Bytes(int64(st.PhotoProgress.Total), lang))
	}
}

// photosCount is "1 ảnh chưa gửi", "1 photo not sent yet", "2 photos …".
func photosCount(n int, lang string) string {
	if n == 1 {
		return trf(lang, "photos_count_one", i18n.Int(1, lang))
	}
	return trf(lang, "photos_count", i18n.Int(int64(n), lang))
}

func progressText(p agent.Progress, lang string) string {
	key := map[string]string{"push": "progress_push", "pull": "progress_pull", "clone": "progress_clone"}[p.Phase]
	if key == "" {
		return ""
	}
	if p.Total <= 0 {
		return trf(lang, key+"_n", i18n.Int(int64(p.Done), lang))
	}
	return trf(lang, key, i18n.Int(int64(p.Done), lang), i18n.Int(int64(p.Total), lang))
}

// dropped: the last session reached the server and the network dropped
// it on the way (not a server out of reach).
func dropped(err error) bool {
	var ce *agent.ConnectError
	return errors.As(err, &ce) && ce.Dropped
}

// detailText is the sync page's sentence on where things stand.
func detailText(st syncState, s *agent.Status, lang string) string {
	switch {
	case !s.Enrolled:
		return tr(lang, "sync_detail_unenrolled")
	case st.Phase == "stopped":
		return tr(lang, "sync_detail_stopped")
	case st.Phase == "command":
		return tr(lang, "sync_detail_command")
	case st.Phase == "offline" && dropped(st.Err):
		return trf(lang, "sync_detail_dropped", i18n.Int(int64(s.Pending), lang))
	case st.Phase == "offline":
		return trf(lang, "sync_detail_offline", i18n.Int(int64(s.Pending), lang))
	case st.Phase == "online":
		if s.Pending == 0 {
			return tr(lang, "sync_detail_ok")
		}
		return trf(lang, "sync_detail_sending", i18n.Int(int64(s.Pending), lang))
	}
	return tr(lang, "sync_detail_connecting")
}

func (a *App) syncStatus(w http.ResponseWriter, r *http.Request) {
	b := a.bar(r.Context(), a.langOf(r))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(b)
}

// monthStart is the first day of t's month in Vietnam ("YYYY-MM-DD").
func monthStart(t time.Time) string {
	t = t.In(i18n.Zone)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, i18n.Zone).Format(time.DateOnly)
}
