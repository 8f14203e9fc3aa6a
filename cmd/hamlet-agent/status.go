package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/syncproto"
)

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := e.noWords(fs); err != nil {
		return err
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	s, err := r.Status(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(s)
	}
	w := e.stdout
	if s.Damaged {
		fmt.Fprintln(w, e.tr(
			"CẢNH BÁO: tệp dữ liệu bị hỏng; Hamlet đã ngừng ghi vào tệp. Hãy chạy: hamlet-agent repair (giữ bản sao tệp hỏng, cứu mọi bản ghi còn đọc được, tải phần còn lại từ máy chủ).",
			"WARNING: the data file is damaged; Hamlet stopped writing to it. Run: hamlet-agent repair (it keeps a copy of the damaged file, saves every readable record, fetches the rest from the server)."))
	}
	if s.Enrollment == nil && s.EnrollmentLeftOut {
		// The server knows this replica, on a device still active: a new
		// code alone is refused (replica_active).
		fmt.Fprintln(w, r.NotEnrolled(ctx).Message(e.lang))
	} else if s.Enrollment == nil {
		fmt.Fprintln(w, e.tr("Chưa đăng ký. Chạy: hamlet-agent enroll --server ĐỊA_CHỈ --code MÃ", "Not enrolled. Run: hamlet-agent enroll --server URL --code CODE"))
	} else {
		var scope []string
		for _, h := range s.Enrollment.Scope {
			if h.Name != "" {
				scope = append(scope, h.Code+" "+h.Name)
			} else {
				scope = append(scope, h.Code)
			}
		}
		fmt.Fprintf(w, "%-22s %s (%s)\n", e.tr("Tổ:", "Team:"), s.Enrollment.TeamName, s.Enrollment.Server)
		fmt.Fprintf(w, "%-22s %s\n", e.tr("Địa bàn:", "Scope:"), strings.Join(scope, "; "))
	}
	fmt.Fprintf(w, "%-22s %d\n", e.tr("Hộ trên máy:", "Households here:"), s.Households)
	if s.CloneTotal > 0 {
		fmt.Fprintf(w, "%-22s %s\n", e.tr("Dữ liệu của tổ:", "Team's data:"), cloneUnfinished(e, s.CloneDone, s.CloneTotal))
	}
	fmt.Fprintf(w, "%-22s %d\n", e.tr("Thay đổi chờ gửi:", "Pending changes:"), s.Pending)
	fmt.Fprintf(w, "%-22s %d\n", e.tr("Bị từ chối:", "Refused:"), s.Rejected)
	fmt.Fprintf(w, "%-22s %d\n", e.tr("Xung đột:", "Conflicts:"), s.Conflicts)
	last := e.tr("chưa bao giờ", "never")
	if s.LastSync != nil {
		last = i18n.DateTime(*s.LastSync, e.lang) + ", " + ago(e, time.Since(*s.LastSync))
	}
	fmt.Fprintf(w, "%-22s %s\n", e.tr("Đồng bộ lần cuối:", "Last sync:"), last)
	if strings.Contains(s.LastSyncErr, string(syncproto.CodeTokenRevoked)) { // agent/revoked.go
		fmt.Fprintf(w, "%-22s %s\n", e.tr("Quyền đồng bộ:", "Sync access:"), e.tr(
			"đã bị thu hồi. Dữ liệu trên máy vẫn giữ nguyên; xin cán bộ CNTT mã đăng ký mới rồi chạy hamlet-agent enroll",
			"revoked. The data on this laptop is kept; ask IT staff for a new enrollment code, then run hamlet-agent enroll"))
	}
	// A 401 at the https:// address a move was checked at (agent.ConnectError
	// tells it after "; at https://...") is not the enrolled server's: it may
	// be any service on that host, not one that issued the token.
	own, _, _ := strings.Cut(s.LastSyncErr, "; at https://")
	if strings.Contains(own, " "+string(syncproto.CodeUnauthorized)+":") { // the server answered 401 unauthorized to a token it issued
		fmt.Fprintf(w, "%-22s %s\n", e.tr("Quyền đồng bộ:", "Sync access:"), e.tr(
			"máy chủ không còn biết máy này nữa; xin cán bộ CNTT mã đăng ký mới rồi chạy hamlet-agent enroll. Dữ liệu trên máy vẫn giữ nguyên",
			"the server does not know this laptop any more; ask IT staff for a new code, then run hamlet-agent enroll. The data on this laptop is kept"))
	}
	if s.LastSyncErr != "" {
		// The stored cause is the error's English text: told as the
		// detail for IT staff, not as a sentence for the volunteer.
		fmt.Fprintf(w, "%-22s %s\n", e.tr("Lỗi lần trước:", "Last error:"), e.tr("(chi tiết cho cán bộ CNTT) ", "")+s.LastSyncErr)
	}
	fmt.Fprintf(w, "%-22s %s\n", e.tr("Độ lệch đồng hồ:", "Clock offset:"), i18n.Duration(s.Offset.Round(time.Second), e.lang))
	fmt.Fprintf(w, "%-22s %d\n", e.tr("Phiên bản dữ liệu:", "Data version:"), s.Schema)
	if s.ClockSetBack {
		fmt.Fprintln(w, clockSetBackNote(e, r.Today()))
	} else if s.ClockWarn {
		fmt.Fprintln(w, clockWarning(e, s.Offset))
	}
	return nil
}

// clockSetBackNote: the clock reads earlier than when the last sync
// measured it (agent.Replica.ClockSetBack), so new records are dated by the
// clock as it reads now, today.
func clockSetBackNote(e *env, today string) string {
	d, err := time.Parse(time.DateOnly, today)
	if err != nil {
		return ""
	}
	return e.tr(
		fmt.Sprintf("Lưu ý: đồng hồ máy này đang chỉ giờ sớm hơn lúc đồng bộ lần trước (có lẽ vừa được chỉnh lại), nên bản ghi mới được ghi ngày theo đồng hồ máy: %s. Nếu ngày đó sai, hãy chỉnh ngày giờ của máy; lần đồng bộ tới Hamlet sẽ đo lại đồng hồ.", i18n.Date(d, "vi")),
		fmt.Sprintf("Note: this laptop's clock reads earlier than at the last sync (it was probably set by hand), so new records are dated by the laptop's clock: %s. If that date is wrong, set the laptop's date and time; the next sync measures the clock again.", i18n.Date(d, "en")))
}

func clockWarning(e *env, off time.Duration) string {
	return e.tr(
		fmt.Sprintf("CẢNH BÁO: đồng hồ máy tính lệch %s so với máy chủ. Hamlet tự hiệu chỉnh, nhưng hãy chỉnh lại ngày giờ của máy.", i18n.Duration((-off).Round(time.Minute), "vi")),
		fmt.Sprintf("WARNING: this laptop's clock is off by %s from the server. Hamlet corrects for it, but please set the date and time.", i18n.Duration((-off).Round(time.Minute), "en")))
}

func ago(e *env, d time.Duration) string {
	switch {
	case d < time.Minute:
		return e.tr("vừa xong", "just now")
	case d < time.Hour:
		return fmt.Sprintf(e.tr("%d phút trước", "%d min ago"), int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf(e.tr("%d giờ trước", "%d h ago"), int(d.Hours()))
	}
	return fmt.Sprintf(e.tr("%d ngày trước", "%d days ago"), int(d.Hours()/24))
}

// cloneUnfinished says that the download of the team's data stopped
// before its end (a cut or killed clone, agent.Replica.CloneUnderWay):
// the laptop holds part of it, and a household not found here may be on
// the server.
func cloneUnfinished(e *env, done, total int) string {
	n := func(v int) string { return i18n.Int(int64(v), e.lang) }
	return fmt.Sprintf(e.tr(
		"chưa tải xong về máy (mới tải %s/%s bản ghi): một hộ chưa thấy trên máy có thể đã có trên máy chủ. Hãy đồng bộ khi có mạng để tải nốt: hamlet-agent sync",
		"not finished downloading to this laptop (%s of %s records so far): a household not found here may be on the server already. Sync when online to fetch the rest: hamlet-agent sync"),
		n(done), n(total))
}
