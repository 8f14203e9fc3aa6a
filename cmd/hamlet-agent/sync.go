package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// progressThreshold: syncs smaller than this finish before a bar helps.
const progressThreshold = 2000

func runSync(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	watch := fs.Bool("watch", false, e.tr("đồng bộ liên tục khi có mạng (Ctrl+C để dừng)", "keep syncing while online (Ctrl+C to stop)"))
	server := fs.String("server", "", e.tr("địa chỉ máy chủ (mặc định: địa chỉ lúc đăng ký)", "server address (default: the one enrolled with)"))
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if w := fs.Arg(0); fs.NArg() > 0 && !looksLikeAddress(w) {
		// "sync now": not an address, so no advice about servers.
		return e.noWords(fs)
	} else if fs.NArg() > 0 {
		// "sync https://other-server" must not quietly sync with the
		// enrolled server: the address goes after --server, and another
		// server means enrolling with it.
		fmt.Fprintf(e.stderr, "%s: %s\n", e.tr("Lỗi", "Error"), e.tr(
			fmt.Sprintf("lệnh sync không nhận thêm chữ %q. Đồng bộ với máy chủ khác: đăng ký lại máy với máy chủ đó (dữ liệu trên máy giữ nguyên): hamlet-agent enroll --server %s --code MÃ. Chỉ đổi địa chỉ của cùng máy chủ: hamlet-agent sync --server %s. Xem: hamlet-agent sync --help", w, w, w),
			fmt.Sprintf("sync takes no further words, got %q. To sync with another server, enroll this laptop with it (its data is kept): hamlet-agent enroll --server %s --code CODE. For a new address of the same server: hamlet-agent sync --server %s. See: hamlet-agent sync --help", w, w, w)))
		return errUsage
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	en, err := r.Enrollment(ctx)
	if err != nil {
		return err
	}
	if *server == "" {
		if en == nil {
			return r.NotEnrolled(ctx)
		}
		*server = en.Server
	}
	path, err := e.tokenPath()
	if err != nil {
		return err
	}
	token, err := agent.ReadToken(path)
	if err != nil {
		return err
	}
	// The notes a summary tells are forgotten as it is printed (Told),
	// not before: a sync killed before it printed (the lid closed, the
	// window) tells them with the next. Told, just before the summary is
	// printed, takes out what the app's sync, run at the same moment on
	// the same file, took to tell first: told once, on its sync page.
	opts := agent.SyncOptions{SaveToken: func(t string) error { return agent.WriteToken(path, t) }, ForgetsTold: true, OnWait: e.syncWaits}
	bar := e.progress()
	if bar != nil {
		opts.Progress = bar.update
	}
	if *watch {
		rosterFetched := false
		opts.OnSync = func(s agent.SyncSummary, err error) {
			if err != nil {
				if agent.StopsWatch(err) {
					// No retry: Watch returns it and the exit message
					// explains (a revoked token, agent.RevokedError; an
					// agent too old for the server; a damaged file or a
					// full disk; no Hamlet server at the address).
					return
				}
				fmt.Fprintf(e.stderr, "%s %s: %s\n", time.Now().In(vnZone).Format("15:04:05"), e.tr("Mất kết nối, sẽ thử lại", "Disconnected, will retry"), watchMessage(err, e.lang))
				return
			}
			if s.ServerMoved != "" { // said once, with the first session there: the sessions go on there
				*server = s.ServerMoved
				if !e.json {
					e.serverMoved(s)
					s.ServerMoved = "" // said: the summary below does not say it again
				}
			}
			s = told(ctx, r, s) // forgotten as printed (a failure: told again by the next session)
			if s.Pushed+s.Pulled+s.Cloned+s.Rejected+s.Conflicts+s.Resent > 0 || s.ScopeChange != nil || s.CloneHeld != nil || s.Fork != nil || e.json {
				e.summary(ctx, r, s)
			}
			// After the summary: a roster fetch on a stalled link holds
			// it up to 15 s, with nothing on the screen.
			if !rosterFetched || r.NeedsRoster(ctx) { // once a session: names for conflicts and histories; a hamlet gained, by name
				rosterFetched = r.RefreshRoster(ctx, *server, token) == nil
			}
		}
		opts.OnPhotos = func(ps agent.PhotoSummary, err error) {
			if bar != nil {
				bar.finish()
			}
			if e.json {
				e.printJSON(map[string]any{"photos": ps})
				return
			}
			e.photoSummary(&ps)
		}
		fmt.Fprintln(e.stderr, e.tr("Đang đồng bộ liên tục. Ctrl+C để dừng.", "Syncing continuously. Ctrl+C to stop."))
		err := r.Watch(ctx, *server, token, opts)
		var re *agent.ReplacedError
		if errors.As(err, &re) {
			// Told while idle or at its next sync alike: a watch that
			// synced for hours did save, and is the command to run again.
			re.Watch = true
		}
		return err
	}
	s, err := r.Sync(ctx, *server, token, opts)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		return err
	}
	s = told(ctx, r, s) // forgotten as printed (a failure: told again by the next sync)
	e.summary(ctx, r, s)
	// Who the team's members are, to name them in conflicts and
	// histories; a server without the roster leaves the ids. A writer
	// this laptop has not heard of comes only with what a sync brings, so
	// a sync that brought nothing keeps the roster it has (as the app
	// does, agent/app/syncer.go): a no-op sync is one round trip, not two
	// (issue 20).
	// A hamlet the team gained comes by code alone: the roster names it.
	// After the summary: a fetch on a stalled link holds it up to 15 s.
	if s.ServerMoved != "" {
		*server = s.ServerMoved
	}
	if s.Pulled+s.Cloned > 0 || s.Conflicts > 0 || r.NeedsRoster(ctx) {
		_ = r.RefreshRoster(ctx, *server, token)
	}
	return nil
}

// syncWaits says that the sync waits for another sync command of the
// data folder (agent.SyncOptions.OnWait): said nothing, it looked hung.
func (e *env) syncWaits() {
	fmt.Fprintln(e.stderr, e.tr("Một lệnh đồng bộ khác của thư mục dữ liệu này đang chạy (có thể ở cửa sổ khác): đợi lệnh đó xong rồi đồng bộ.",
		"Another sync of this data folder is running (perhaps in another window): waiting for it to end, then syncing."))
}

func (e *env) summary(ctx context.Context, r *agent.Replica, s agent.SyncSummary) {
	if e.json {
		e.printJSON(s)
		return
	}
	// Counts as every line a person reads writes them (i18n.Int: 1.500 in
	// Vietnamese, 1,500 in English), as the clone's line just below.
	n := func(v int) string { return i18n.Int(int64(v), e.lang) }
	fmt.Fprintf(e.stdout, e.tr("Đồng bộ xong: gửi %s, nhận %s, xung đột %s, bị từ chối %s; %s trong %s\n",
		"Synced: sent %s, received %s, conflicts %s, refused %s; %s in %s\n"),
		n(s.Pushed), n(s.Pulled+s.Cloned), n(s.Conflicts), n(s.Rejected), i18n.Bytes(s.Bytes(), e.lang), i18n.Duration(s.Duration.Round(time.Millisecond), e.lang))
	if s.ServerMoved != "" {
		e.serverMoved(s)
	}
	if s.Cloned > 0 || s.CloneHeld != nil {
		held := s.CloneHeld
		if s.CloneRows <= s.Cloned {
			held = nil // all of it came in this sync
		}
		fmt.Fprintln(e.stdout, e.cloned(s.ClonedLive, held))
	}
	if s.ClockWarning {
		fmt.Fprintln(e.stderr, clockWarning(e, s.Offset))
	}
	if s.Resent > 0 {
		fmt.Fprintf(e.stderr, e.tr("Máy chủ đã mất %s thay đổi mà máy này gửi trước đây (có thể máy chủ vừa được khôi phục từ bản sao lưu): Hamlet đã gửi lại dưới một mã bản dữ liệu mới của máy này, không mất gì. Nên báo cán bộ CNTT.\n",
			"The server had lost %s changes this laptop sent before (it may have been restored from a backup): Hamlet sent them again under a new replica id of this laptop, nothing is lost. Tell IT staff.\n"), n(s.Resent))
	}
	e.photoSummary(s.Photos)   // photos.go
	en, _ := r.Enrollment(ctx) // the hamlets' names; unreadable, their codes
	e.scopeSummary(s.ScopeChange, en)
	if s.Fork != nil && (s.Fork.Copy || s.Resent == 0) {
		e.forkSummary(s.Fork) // fork.go; a resend takes a new id too, and says why itself (Resent): a copy is said too
	}
	if s.Rejected > 0 {
		fmt.Fprintln(e.stderr, e.tr("Có thay đổi bị từ chối: xem hamlet-agent rejected", "Some changes were refused: see hamlet-agent rejected"))
	}
	if s.Conflicts > 0 {
		fmt.Fprintln(e.stderr, e.tr("Có giá trị bị ghi đè đồng thời: xem hamlet-agent conflicts", "Some values lost to concurrent edits: see hamlet-agent conflicts"))
	}
}

// serverMoved says, once, that the server's address is now its https://
// one (agent.SyncSummary.ServerMoved): stored, or, when the address
// synced with was this run's --server, used for this run only.
func (e *env) serverMoved(s agent.SyncSummary) {
	if s.ServerMovedOnce {
		fmt.Fprintf(e.stdout, e.tr("Máy chủ đã chuyển sang https://: lần đồng bộ này dùng địa chỉ %s. Địa chỉ đã đăng ký trên máy này không đổi; nếu dùng --server, từ nay hãy dùng --server %s.\n",
			"The server moved to https://: this sync used %s. The address this laptop is enrolled with is unchanged; if you use --server, use --server %s from now on.\n"), s.ServerMoved, s.ServerMoved)
		return
	}
	fmt.Fprintf(e.stdout, e.tr("Máy chủ đã chuyển sang https://: địa chỉ máy chủ nay là %s, đã lưu trên máy này để đồng bộ từ nay.\n",
		"The server moved to https://: its address is now %s, saved on this laptop for every sync from now on.\n"), s.ServerMoved)
}

// cloned says what a first sync brought to the laptop, in plain words:
// "Đã tải về 27 bản ghi của tổ: 12 hộ, 10 lượt thăm hộ, ...". A clone
// the network cut ends over several syncs; the one that ends it brought
// only the last part (live), and says what the laptop holds (held, nil
// when the whole clone came in this sync).
func (e *env) cloned(live, held map[string]int) string {
	total, parts := e.records(live)
	if held != nil {
		all, allParts := e.records(held)
		if total == 0 {
			// Its last part came in a sync cut just after it: this one
			// fetched none of it (agent tellCloned).
			return fmt.Sprintf(e.tr("Đã tải xong dữ liệu của tổ về máy: máy này có %s bản ghi của tổ: %s.",
				"Finished downloading the team's data to this laptop: this laptop holds the team's %s records: %s."),
				i18n.Int(int64(all), e.lang), strings.Join(allParts, ", "))
		}
		return fmt.Sprintf(e.tr("Đã tải xong dữ liệu của tổ về máy (lần đồng bộ này tải %s bản ghi cuối cùng): máy này có %s bản ghi của tổ: %s.",
			"Finished downloading the team's data to this laptop (this sync fetched the last %s records): this laptop holds the team's %s records: %s."),
			i18n.Int(int64(total), e.lang), i18n.Int(int64(all), e.lang), strings.Join(allParts, ", "))
	}
	if total == 0 {
		return e.tr("Tổ chưa có bản ghi nào trên máy chủ: máy này đã sẵn sàng để ghi.", "The team has no records on the server yet: this laptop is ready to record.")
	}
	return fmt.Sprintf(e.tr("Đã tải về máy %s bản ghi của tổ: %s.", "Downloaded the team's %s records to this laptop: %s."), i18n.Int(int64(total), e.lang), strings.Join(parts, ", "))
}

// records counts the records of each kind in n, and names them.
func (e *env) records(n map[string]int) (int, []string) {
	total := 0
	var parts []string
	for _, t := range []struct {
		table  string
		vi, en string
	}{{"households", "hộ", "households"}, {"visits", "lượt thăm hộ", "visits"}, {"tutoring_records", "lượt hướng dẫn", "tutoring records"}, {"field_reports", "phản ánh hiện trường", "field reports"}} {
		total += n[t.table]
		if n[t.table] > 0 {
			parts = append(parts, i18n.Int(int64(n[t.table]), e.lang)+" "+e.tr(t.vi, t.en))
		}
	}
	return total, parts
}

// bar shows a progress bar on an interactive terminal, only once a sync
// turns out to be long (a first clone).
type bar struct {
	e     *env
	pb    *progressbar.ProgressBar
	phase string
	plain bool      // not a terminal: periodic lines (clone.go)
	last  time.Time // the last plain line
}

func (e *env) progress() *bar {
	if e.json {
		return nil
	}
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		// Not a terminal (a log file, a service): a clone prints plain
		// lines now and then instead of redrawing a bar.
		return &bar{e: e, plain: true}
	}
	return &bar{e: e}
}

func (b *bar) update(p agent.Progress) {
	if p.Phase == "clone" {
		b.clone(p)
		return
	}
	if p.Phase == "photos" {
		b.photos(p)
		return
	}
	if b.plain || p.Total < progressThreshold && b.pb == nil || p.Total == 0 { // 0: unknown (a back-fill)
		return
	}
	if b.pb == nil || b.phase != p.Phase {
		if b.pb != nil {
			b.pb.Finish()
			fmt.Fprintln(os.Stderr)
		}
		desc := b.e.tr("Đang gửi", "Sending")
		if p.Phase == "pull" {
			desc = b.e.tr("Đang nhận", "Receiving")
		}
		b.pb = progressbar.NewOptions(p.Total, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(), progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		b.phase = p.Phase
	}
	b.pb.ChangeMax(p.Total)
	b.pb.Set(p.Done)
}

func (b *bar) finish() {
	if b.pb != nil {
		b.pb.Finish()
	}
}

// looksLikeAddress: w was typed as a server address (a scheme, a dot or a
// port), not some other word ("sync now").
func looksLikeAddress(w string) bool {
	if !strings.Contains(w, "://") && !strings.ContainsAny(w, ".:") {
		return false
	}
	_, err := agent.NormalizeServerURL(w)
	return err == nil
}

// watchMessage is what `sync --watch` says of a failed session: a
// connection dropped mid-sync is told as the app tells it, since watch
// too syncs again by itself ("sync again" would have the volunteer stop
// it to do so).
func watchMessage(err error, lang string) string {
	var ce *agent.ConnectError
	if errors.As(err, &ce) { // a drop, a server restarting: watch tries again by itself, as the app
		return ce.AppMessage(lang)
	}
	return agent.MessageOf(err, lang)
}

// told forgets the notes s tells, just before it is printed, and returns
// what of it this process is to print (agent.Replica.Told): without what
// the app's sync on the same file took to tell first. A failure to forget
// prints s whole: told again by the next sync rather than not at all.
func told(ctx context.Context, r *agent.Replica, s agent.SyncSummary) agent.SyncSummary {
	t, _ := r.Told(ctx, s, false)
	return t
}
