package main

import (
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// plainEvery is how often a clone prints a progress line when stderr is
// not a terminal.
const plainEvery = 5 * time.Second

// clone shows a snapshot clone's progress: rows stored of the rows in
// scope, the rate and the time left. The bar is schollz/progressbar (as for
// push and pull); its own time estimate is off, because it counts from the
// bar's creation and a resumed clone starts with rows already stored, so
// the description carries the agent's estimate (Progress.Remaining,
// measured over this session only).
func (b *bar) clone(p agent.Progress) {
	if b.plain {
		now := time.Now()
		if now.Sub(b.last) < plainEvery && p.Done < p.Total {
			return
		}
		b.last = now
		fmt.Fprintln(b.e.stderr, b.cloneLine(p))
		return
	}
	if b.pb == nil || b.phase != p.Phase {
		if b.pb != nil {
			b.pb.Finish()
			fmt.Fprintln(os.Stderr)
		}
		b.pb = progressbar.NewOptions(p.Total, progressbar.OptionSetWriter(os.Stderr),
			progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(false), progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
		b.phase = p.Phase
	}
	b.pb.Describe(b.cloneDesc(p))
	b.pb.ChangeMax(p.Total)
	_ = b.pb.Set(p.Done)
}

func (b *bar) cloneDesc(p agent.Progress) string {
	if p.Rate <= 0 {
		return b.e.tr("Đang tải dữ liệu của tổ về máy", "Downloading the team's data")
	}
	return fmt.Sprintf(b.e.tr("Đang tải dữ liệu của tổ về máy (%s bản ghi/giây, còn khoảng %s)", "Downloading the team's data (%s records/s, about %s left)"),
		i18n.Int(int64(p.Rate+0.5), b.e.lang), i18n.Duration(roundLeft(p.Remaining), b.e.lang))
}

func (b *bar) cloneLine(p agent.Progress) string {
	pct := 0.0
	if p.Total > 0 {
		pct = 100 * float64(p.Done) / float64(p.Total)
	}
	lang := b.e.lang
	if p.Rate <= 0 {
		return fmt.Sprintf(b.e.tr("Đang tải dữ liệu về máy: %s/%s bản ghi (%s%%)", "Downloading: %s/%s records (%s%%)"),
			i18n.Int(int64(p.Done), lang), i18n.Int(int64(p.Total), lang), i18n.Decimal(pct, 0, lang))
	}
	return fmt.Sprintf(b.e.tr("Đang tải dữ liệu về máy: %s/%s bản ghi (%s%%), %s bản ghi/giây, còn khoảng %s", "Downloading: %s/%s records (%s%%), %s records/s, about %s left"),
		i18n.Int(int64(p.Done), lang), i18n.Int(int64(p.Total), lang), i18n.Decimal(pct, 0, lang), i18n.Int(int64(p.Rate+0.5), lang), i18n.Duration(roundLeft(p.Remaining), lang))
}

// roundLeft rounds a time left to what a person reads: seconds under a
// minute, minutes and seconds under an hour.
func roundLeft(d time.Duration) time.Duration {
	if d < time.Minute {
		return d.Round(time.Second)
	}
	if d < time.Hour {
		return d.Round(10 * time.Second)
	}
	return d.Round(time.Minute)
}
