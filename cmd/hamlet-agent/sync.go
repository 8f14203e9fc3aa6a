package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/syncproto"
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
			return &agent.NotEnrolledError{}
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
	opts := agent.SyncOptions{SaveToken: func(t string) error { return agent.WriteToken(path, t) }}
	bar := e.progress()
	if bar != nil {
		opts.Progress = bar.update
	}
	if *watch {
		opts.OnSync = func(s agent.SyncSummary, err error) {
			if err != nil {
				if errors.Is(err, &syncproto.Error{Code: syncproto.CodeTokenRevoked}) || errors.Is(err, &syncproto.Error{Code: syncproto.CodeUnauthorized}) {
					return // no retry: Watch returns it and the exit message explains (agent.RevokedError)
				}
				if agent.NeedsPerson(err) {
					return // a damaged file or a full disk: Watch stops and the exit message explains
				}
				fmt.Fprintf(e.stderr, "%s %s: %s\n", time.Now().In(vnZone).Format("15:04:05"), e.tr("Mất kết nối, sẽ thử lại", "Disconnected, will retry"), agent.MessageOf(err, e.lang))
				return
			}
			if s.Pushed+s.Pulled+s.Rejected+s.Conflicts > 0 || s.ScopeChange != nil || e.json {
				e.summary(s)
			}
		}
		fmt.Fprintln(e.stderr, e.tr("Đang đồng bộ liên tục. Ctrl+C để dừng.", "Syncing continuously. Ctrl+C to stop."))
		return r.Watch(ctx, *server, token, opts)
	}
	s, err := r.Sync(ctx, *server, token, opts)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		return err
	}
	e.summary(s)
	return nil
}

func (e *env) summary(s agent.SyncSummary) {
	if e.json {
		e.printJSON(s)
		return
	}
	fmt.Fprintf(e.stdout, e.tr("Đồng bộ xong: gửi %d, nhận %d, xung đột %d, bị từ chối %d, %s trong %s\n",
		"Synced: sent %d, received %d, conflicts %d, refused %d, %s in %s\n"),
		s.Pushed, s.Pulled, s.Conflicts, s.Rejected, bytesText(s.Bytes()), s.Duration.Round(time.Millisecond))
	if s.Cloned > 0 {
		fmt.Fprintf(e.stdout, e.tr("Bản sao: %d dòng\n", "Cloned: %d rows\n"), s.Cloned)
	}
	if s.ClockWarning {
		fmt.Fprintln(e.stderr, clockWarning(e, s.Offset))
	}
	e.scopeSummary(s.ScopeChange)
	e.forkSummary(s.Fork) // fork.go
	if s.Rejected > 0 {
		fmt.Fprintln(e.stderr, e.tr("Có thay đổi bị từ chối: xem hamlet-agent rejected", "Some changes were refused: see hamlet-agent rejected"))
	}
	if s.Conflicts > 0 {
		fmt.Fprintln(e.stderr, e.tr("Có giá trị bị ghi đè đồng thời: xem hamlet-agent conflicts", "Some values lost to concurrent edits: see hamlet-agent conflicts"))
	}
}

func bytesText(n int64) string {
	switch {
	case n < 1024:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
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
