package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hamlet-vn/hamlet/agent"
)

// runRepair rebuilds a damaged replica (agent.Repair), then syncs so the
// server sends back what the damage took.
func runRepair(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("repair", flag.ContinueOnError)
	offline := fs.Bool("offline", false, e.tr("chỉ sửa, không đồng bộ (chạy hamlet-agent sync sau)", "repair only, do not sync (run hamlet-agent sync later)"))
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if err := e.noWords(fs); err != nil {
		return err
	}
	d, err := e.dir()
	if err != nil {
		return err
	}
	if err := fileOnDataDir(d); err != nil {
		return err
	}
	rep, err := agent.Repair(ctx, filepath.Join(d, "replica.db"), e.openOptions())
	if errors.Is(err, agent.ErrNotDamaged) {
		return e.notDamaged(ctx)
	}
	if err != nil {
		return err
	}
	out := map[string]any{"repair": rep}
	if !e.json {
		e.repairReport(rep)
	}
	if *offline || rep.NewReplicaID {
		return e.afterRepair(ctx, out, nil)
	}
	r, err := e.open(ctx)
	if err != nil {
		return err
	}
	en, err := r.Enrollment(ctx)
	if err != nil || en == nil {
		return e.afterRepair(ctx, out, err)
	}
	tokenPath, err := e.tokenPath()
	if err != nil {
		return err
	}
	token, err := agent.ReadToken(tokenPath)
	if err != nil {
		return e.afterRepair(ctx, out, err)
	}
	s, err := r.Sync(ctx, en.Server, token, agent.SyncOptions{OnWait: e.syncWaits})
	if err != nil {
		return e.afterRepair(ctx, out, err)
	}
	if e.json {
		out["sync"] = s
		return e.printJSON(out)
	}
	e.summary(ctx, r, s)
	fmt.Fprintln(e.stdout, e.tr("Đã tải lại từ máy chủ những bản ghi đã đồng bộ trước đây. Tệp dữ liệu dùng được bình thường.",
		"The records synced before were fetched again from the server. The data file is ready to use."))
	return nil
}

// notDamaged answers a repair of a sound file. A repair that salvaged a
// file whose enrollment was unreadable may have been killed before it
// said so; run again, it says it now, or the volunteer would learn it
// only from a failed sync.
func (e *env) notDamaged(ctx context.Context) error {
	notEnrolled := false
	if r, err := e.open(ctx); err == nil {
		en, err := r.Enrollment(ctx)
		notEnrolled = err == nil && en == nil
	}
	if e.json {
		return e.printJSON(map[string]any{"damaged": false, "not_enrolled": notEnrolled})
	}
	fmt.Fprintln(e.stdout, e.tr("Tệp dữ liệu không bị hỏng: không cần sửa.", "The data file is not damaged: nothing to repair."))
	if notEnrolled {
		fmt.Fprintln(e.stderr, e.tr(
			"Máy này chưa được đăng ký (thông tin đăng ký có thể đã mất khi sửa tệp lần trước).",
			"This laptop is not enrolled (its enrollment may have been lost in an earlier repair).")+" "+e.enrollAgainSteps(ctx, false))
	}
	return nil
}

// enrollAgainSteps says what a laptop whose enrollment a repair left out
// needs to sync again. Its replica is the one the server knows, still on
// a device that is active, and the server refuses a new code for it until
// that device is revoked (replica_active): asked only for a new code, IT
// staff gave one, and the volunteer was sent back to them. IT staff find
// the device by the replica's id (the REPLICA column of hamlet-server
// device list). A replica given a new id (newID) is one the server has
// never seen: a new code enrolls it.
func (e *env) enrollAgainSteps(ctx context.Context, newID bool) string {
	replica := ""
	if r, err := e.open(ctx); err == nil && !newID {
		replica = short(r.ID().String())
	}
	return agent.EnrollAgainSteps(e.lang, replica)
}

// afterRepair ends a repair whose sync did not run or did not finish: the
// repaired replica holds everything saved; the rest comes at the next sync.
func (e *env) afterRepair(ctx context.Context, out map[string]any, syncErr error) error {
	rep := out["repair"].(*agent.RepairReport)
	if e.json {
		if syncErr != nil {
			out["sync_error"] = agent.MessageOf(syncErr, e.lang)
		}
		return e.printJSON(out)
	}
	switch {
	case rep.NewReplicaID || rep.NotEnrolled:
		fmt.Fprintln(e.stderr, e.tr(
			"Không đọc được thông tin đăng ký của máy này trong tệp hỏng; các bản ghi đã cứu vẫn nằm trên máy.",
			"The enrollment of this laptop could not be read from the damaged file; the records saved are on this laptop.")+" "+e.enrollAgainSteps(ctx, rep.NewReplicaID))
	case syncErr != nil:
		fmt.Fprintf(e.stderr, "%s %s\n", e.tr(
			"Chưa tải được phần còn lại từ máy chủ:", "Could not fetch the rest from the server yet:"), agent.MessageOf(syncErr, e.lang))
		fmt.Fprintln(e.stderr, e.tr(
			"Các bản ghi đã cứu vẫn nằm trên máy. Khi có mạng, hãy chạy: hamlet-agent sync.",
			"The records saved are on this laptop. When online, run: hamlet-agent sync."))
	default:
		fmt.Fprintln(e.stdout, e.tr("Khi có mạng, hãy chạy: hamlet-agent sync để tải phần còn lại từ máy chủ.",
			"When online, run: hamlet-agent sync to fetch the rest from the server."))
	}
	return nil
}

var tableNames = map[string][2]string{
	"households":       {"hộ", "households"},
	"visits":           {"lượt thăm", "visits"},
	"tutoring_records": {"lượt hướng dẫn", "tutoring records"},
	"field_reports":    {"phản ánh", "field reports"},
}

func (e *env) repairReport(rep *agent.RepairReport) {
	w := e.stdout
	if rep.Done {
		fmt.Fprintln(w, e.tr("Lần sửa trước đã xong; tệp dữ liệu dùng được bình thường.", "The previous repair had finished; the data file is ready to use."))
		return
	}
	fmt.Fprintln(w, e.tr("Đã sửa tệp dữ liệu.", "The data file is repaired."))
	fmt.Fprintf(w, "  %s %s\n", e.tr("Bản sao tệp hỏng (giữ cho cán bộ CNTT):", "Copy of the damaged file (kept for IT staff):"), rep.Kept)
	var rows []string
	tables := make([]string, 0, len(rep.Rows))
	for t := range rep.Rows {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		name := tableNames[t]
		if name[0] == "" {
			name = [2]string{t, t}
		}
		rows = append(rows, fmt.Sprintf("%d %s", rep.Rows[t], e.tr(name[0], name[1])))
	}
	if len(rows) == 0 {
		rows = []string{"0"}
	}
	fmt.Fprintf(w, "  %s %s\n", e.tr("Bản ghi đọc được:", "Records read:"), strings.Join(rows, ", "))
	fmt.Fprintf(w, "  %s %d (%s %d), %s %d, %s %d\n",
		e.tr("Thay đổi chưa gửi đã giữ:", "Unsent changes kept:"), rep.Pending,
		e.tr("dựng lại từ bản ghi", "rebuilt from records"), rep.Rebuilt,
		e.tr("thay đổi bị từ chối", "refused changes"), rep.Rejected,
		e.tr("xung đột", "conflicts"), rep.Conflicts)
	if rep.RowsFromChanges > 0 {
		fmt.Fprintf(w, "  %s %d\n", e.tr("Bản ghi dựng lại từ thay đổi chưa gửi:", "Records rebuilt from unsent changes:"), rep.RowsFromChanges)
	}
	parts := 0
	for _, n := range rep.Unreadable {
		parts += n
	}
	if parts+rep.Undecodable > 0 {
		fmt.Fprintf(w, "  %s %d\n", e.tr("Phần hỏng không đọc được:", "Damaged parts that could not be read:"), parts+rep.Undecodable)
		fmt.Fprintln(w, "  "+e.tr("Những bản ghi đã đồng bộ nằm trong phần hỏng sẽ được tải lại từ máy chủ.",
			"Records in those parts that were synced before come back from the server."))
	}
	if len(rep.Untold) > 0 {
		fmt.Fprintf(e.stderr, "%s %s. %s\n", e.tr(
			"Không đọc được trong tệp hỏng những thông báo chưa kịp cho bạn biết, về:",
			"Some news not yet told to you could not be read from the damaged file, about:"),
			strings.Join(e.untoldNames(rep.Untold), "; "), e.tr(
				"Hãy xem lại danh sách hộ sau khi đồng bộ (hamlet-agent household list) và hỏi tổ trưởng nếu có gì thay đổi; bản sao tệp hỏng vẫn giữ các thông báo đó cho cán bộ CNTT.",
				"Check the household list after syncing (hamlet-agent household list) and ask your team leader what changed; the copy of the damaged file keeps that news for IT staff."))
	}
	if rep.LostUnknown {
		fmt.Fprintln(e.stderr, e.tr(
			"Phần hỏng gồm cả sổ ghi thay đổi của máy này, nên không biết chắc các thay đổi chưa gửi còn đủ hay không. Sau khi đồng bộ, hãy xem lại những gì đã nhập từ lần đồng bộ cuối (hamlet-agent household list) và nhập lại phần còn thiếu.",
			"The damaged part held this laptop's change counter, so whether unsent changes were lost cannot be told. After syncing, check what you entered since the last sync (hamlet-agent household list) and enter what is missing again."))
	} else if rep.LostPending > 0 {
		fmt.Fprintf(e.stderr, "%s\n", e.tr(
			fmt.Sprintf("KHÔNG cứu được %d thay đổi chưa gửi (nội dung nằm trong phần hỏng). Hãy xem lại những gì đã nhập từ lần đồng bộ cuối (hamlet-agent household list) và nhập lại phần còn thiếu.", rep.LostPending),
			fmt.Sprintf("%d unsent changes could NOT be saved (their content was in the damaged part). Check what you entered since the last sync (hamlet-agent household list) and enter what is missing again.", rep.LostPending)))
	} else {
		fmt.Fprintln(w, "  "+e.tr("Mọi thay đổi chưa gửi đều được giữ.", "Every unsent change was kept."))
	}
}

// untoldNames says what the news repair could not read was about.
func (e *env) untoldNames(untold []agent.UntoldNote) []string {
	var out []string
	for _, u := range untold {
		switch u {
		case agent.UntoldNotices:
			out = append(out, e.tr("các thông báo của lần đồng bộ chưa được xem trong ứng dụng", "the sync notices not yet read in the app"))
		case agent.UntoldFork:
			out = append(out, e.tr("thư mục dữ liệu này là bản sao của máy khác, hoặc các thay đổi đã gửi lại cho máy chủ vừa được khôi phục", "this data folder being a copy of another laptop's, or changes sent again to a restored server"))
		case agent.UntoldLost:
			out = append(out, e.tr("các ấp tổ không còn phụ trách (bản ghi của các ấp đó đã được gỡ khỏi máy)", "hamlets the team no longer covers (their records were removed from this laptop)"))
		case agent.UntoldFilled:
			out = append(out, e.tr("các ấp tổ mới được giao (bản ghi của các ấp đó đã được tải về)", "hamlets newly given to the team (their records were fetched)"))
		}
	}
	return out
}
