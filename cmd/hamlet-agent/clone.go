package main

import (
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/hamlet-vn/hamlet/agent"
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
		return b.e.tr("Đang tải bản sao", "Cloning")
	}
	return fmt.Sprintf(b.e.tr("Đang tải bản sao (%.0f dòng/giây, còn khoảng %s)", "Cloning (%.0f rows/s, about %s left)"),
		p.Rate, roundLeft(p.Remaining))
}

func (b *bar) cloneLine(p agent.Progress) string {
	pct := 0.0
	if p.Total > 0 {
		pct = 100 * float64(p.Done) / float64(p.Total)
	}
	if p.Rate <= 0 {
		return fmt.Sprintf(b.e.tr("Bản sao: %d/%d dòng (%.0f%%)", "Clone: %d/%d rows (%.0f%%)"), p.Done, p.Total, pct)
	}
	return fmt.Sprintf(b.e.tr("Bản sao: %d/%d dòng (%.0f%%), %.0f dòng/giây, còn khoảng %s", "Clone: %d/%d rows (%.0f%%), %.0f rows/s, about %s left"),
		p.Done, p.Total, pct, p.Rate, roundLeft(p.Remaining))
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
