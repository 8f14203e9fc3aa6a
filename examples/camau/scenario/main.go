// Command scenario shows Hamlet's sync with one command:
//
//	go run ./examples/camau/scenario            # Vietnamese
//	go run ./examples/camau/scenario --lang en  # English
//
// It starts a real Hamlet server on loopback with a small generated Cà Mau
// province, enrolls three volunteers' laptops (package agent) in one hamlet,
// lets them work offline — registering households, editing the same
// household, editing the same field at once, deleting a household another
// volunteer is editing, filing a field report — and sync one after the
// other, printing what each laptop sees, the conflicts, and the state all
// three agree on at the end. Everything lives in a temporary directory that
// is removed afterwards.
//
// It is a main, and like cmd/* it wires the parts itself: it opens the
// SQLite store (server/sqlitestore), the one package outside cmd/ and the
// tests that does, and serves server/httpapp. It must never import a test
// helper.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/examples/camau"
	"github.com/hamlet-vn/hamlet/examples/camau/loader"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/httpapp"
	"github.com/hamlet-vn/hamlet/server/sqlitestore"
	"github.com/hamlet-vn/hamlet/syncproto"
)

var lang = "vi"

func say(vi, en string, args ...any) {
	f := vi
	if lang == "en" {
		f = en
	}
	fmt.Printf(f+"\n", args...)
}

func step(n int, vi, en string) {
	fmt.Println()
	say("── Bước %d. "+vi, "── Step %d. "+en, n)
}

func main() {
	flag.StringVar(&lang, "lang", "vi", "vi or en")
	keep := flag.Bool("keep", false, "keep the temporary directory (server data and the three replicas)")
	flag.Parse()
	if err := run(*keep); err != nil {
		fmt.Fprintln(os.Stderr, "scenario:", err)
		os.Exit(1)
	}
}

// volunteer is one laptop.
type volunteer struct {
	name  string
	r     *agent.Replica
	token string
}

func run(keep bool) error {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp("", "hamlet-scenario-")
	if err != nil {
		return err
	}
	if keep {
		say("Dữ liệu giữ lại tại %s", "Data kept in %s", dir)
	} else {
		defer os.RemoveAll(dir)
	}

	// The server: a real one, on loopback, with the small province.
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := os.MkdirAll(dir+"/server", 0o750); err != nil {
		return err
	}
	st, err := sqlitestore.Open(ctx, dir+"/server/"+sqlitestore.DBFile, sqlitestore.Options{Synchronous: "NORMAL"})
	if err != nil {
		return err
	}
	srv, err := server.OpenWithStore(ctx, server.Config{Logger: quiet, GCInterval: -1}, st)
	if err != nil {
		return err
	}
	defer srv.Close()
	res, err := loader.Load(ctx, srv, camau.Small(), loader.Options{})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: httpapp.Handler(srv), ReadHeaderTimeout: 5 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()
	url := "http://" + ln.Addr().String()
	team := res.Structure.Teams[0]
	hamlet := team.HamletCodes[0]
	hamletName := hamlet
	for _, h := range res.Structure.Hamlets {
		if h.Code == hamlet {
			hamletName = h.Name + " (" + h.Code + ")"
		}
	}
	say("Máy chủ Hamlet chạy tại %s với tỉnh mẫu: %d ấp/khóm, %d hộ, %d phản ánh (nạp %d thay đổi trong %s).",
		"Hamlet server at %s with a sample province: %d hamlets, %d households, %d reports (%d changes loaded in %s).",
		url, res.Counts.Hamlets, res.Counts.Households, res.Counts.Reports, res.Changes, res.RowsTime.Round(time.Millisecond))
	say("Tổ %q phụ trách %s.", "Team %q covers %s.", team.Name, hamletName)

	// Three volunteers enroll their laptops and take the hamlet's data.
	step(1, "Ba tình nguyện viên đăng ký máy và tải dữ liệu ấp về.", "Three volunteers enroll their laptops and download the hamlet.")
	a := srv.Admin()
	var vs []*volunteer
	for _, name := range []string{"Lan", "Minh", "Hùng"} {
		m, err := a.AddMember(ctx, team.ID, "Tình nguyện viên "+name, "member", "")
		if err != nil {
			return err
		}
		code, _, err := a.IssueCode(ctx, m.ID, time.Hour)
		if err != nil {
			return err
		}
		r, err := agent.Open(ctx, fmt.Sprintf("%s/%s.db", dir, strings.ToLower(name)))
		if err != nil {
			return err
		}
		defer r.Close()
		tok, _, err := r.Enroll(ctx, url, code, "laptop "+name)
		if err != nil {
			return err
		}
		v := &volunteer{name: name, r: r, token: tok}
		sum, err := v.sync(ctx, url)
		if err != nil {
			return err
		}
		n := v.count(ctx, hamlet)
		say("  %s: mã đăng ký %s → tải về %d thay đổi, thấy %d hộ trong ấp.", "  %s: code %s → pulled %d changes, sees %d households in the hamlet.", name, code, sum.Pulled, n)
		vs = append(vs, v)
	}
	lan, minh, hung := vs[0], vs[1], vs[2]

	step(2, "Lan đăng ký một hộ mới khi không có mạng, rồi đồng bộ; Minh và Hùng đồng bộ để nhận hộ đó.",
		"Lan registers a new household offline, then syncs; Minh and Hùng sync to receive it.")
	hh, err := lan.r.AddHousehold(ctx, agent.Fields{"hamlet_code": hamlet, "head_name": "Trần Văn Tư", "address": "Số 12, Kênh Xáng",
		"members_count": int64(4), "phone": "0912345678"})
	if err != nil {
		return err
	}
	say("  Lan: thêm hộ %s (Trần Văn Tư, 4 người) — chưa có mạng, lưu trên máy.", "  Lan: adds household %s (Trần Văn Tư, 4 people) — offline, saved on the laptop.", short(hh))
	for _, v := range vs {
		if _, err := v.sync(ctx, url); err != nil {
			return err
		}
	}
	say("  Sau khi đồng bộ: Lan %d hộ, Minh %d hộ, Hùng %d hộ.", "  After syncing: Lan %d, Minh %d, Hùng %d households.", lan.count(ctx, hamlet), minh.count(ctx, hamlet), hung.count(ctx, hamlet))

	// An existing household of the hamlet that two volunteers will fight over.
	recs, err := minh.r.List(ctx, "households", agent.ListOptions{Hamlet: hamlet})
	if err != nil {
		return err
	}
	var old agent.Record
	for _, rec := range recs {
		if rec.ID != hh.String() {
			old = rec
			break
		}
	}
	oldID := uuid.MustParse(old.ID)

	step(3, "Cả ba làm việc ngoại tuyến trên cùng những hộ đó.", "All three work offline on the same households.")
	if err := lan.r.EditHousehold(ctx, hh, agent.Fields{"phone": "0987654321"}); err != nil {
		return err
	}
	say("  Lan:  sửa số điện thoại hộ Trần Văn Tư → 0987654321", "  Lan:  edits Trần Văn Tư's phone → 0987654321")
	if err := minh.r.EditHousehold(ctx, hh, agent.Fields{"members_count": int64(5), "has_smartphone": true}); err != nil {
		return err
	}
	say("  Minh: sửa số nhân khẩu → 5, có điện thoại thông minh (trường khác: cả hai đều giữ)", "  Minh: edits members → 5, has a smartphone (other fields: both survive)")
	if err := lan.r.EditHousehold(ctx, hh, agent.Fields{"address": "Số 12, Kênh Xáng, gần chợ"}); err != nil {
		return err
	}
	say("  Lan:  sửa địa chỉ → \"Số 12, Kênh Xáng, gần chợ\"", "  Lan:  edits the address → \"Số 12, Kênh Xáng, gần chợ\"")
	time.Sleep(5 * time.Millisecond) // Hùng writes a little later: his edit is the newer one
	if err := hung.r.EditHousehold(ctx, hh, agent.Fields{"address": "Số 14, Kênh Xáng"}); err != nil {
		return err
	}
	say("  Hùng: cũng sửa địa chỉ → \"Số 14, Kênh Xáng\" (cùng trường, muộn hơn: xung đột)", "  Hùng: also edits the address → \"Số 14, Kênh Xáng\" (same field, later: a conflict)")
	if err := minh.r.Delete(ctx, "households", oldID); err != nil {
		return err
	}
	say("  Minh: xóa hộ %s (%s) vì gia đình đã chuyển đi", "  Minh: deletes household %s (%s): the family moved away", short(oldID), old.Str("head_name"))
	time.Sleep(5 * time.Millisecond)
	if err := hung.r.EditHousehold(ctx, oldID, agent.Fields{"notes": "Đã hướng dẫn cài VNeID"}); err != nil {
		return err
	}
	say("  Hùng: cùng lúc ghi chú cho hộ %s: \"Đã hướng dẫn cài VNeID\"", "  Hùng: meanwhile adds a note to %s: \"Đã hướng dẫn cài VNeID\"", short(oldID))
	rep, err := hung.r.AddReport(ctx, hh, agent.Fields{"category": firstCategory(), "description": "Đèn đường trước nhà hỏng",
		"reporter_name": "Trần Văn Tư", "reporter_phone": "0912345678", "consent_disclose": false})
	if err != nil {
		return err
	}
	say("  Hùng: gửi phản ánh hiện trường %s thay cho người dân (đèn đường hỏng)", "  Hùng: files field report %s for the resident (broken street light)", short(rep))
	for _, v := range vs {
		v.show(ctx, hh, oldID)
	}

	step(4, "Lần lượt đồng bộ: Lan, Minh, Hùng, rồi Lan và Minh lần nữa.", "They sync in turn: Lan, Minh, Hùng, then Lan and Minh again.")
	for _, v := range []*volunteer{lan, minh, hung, lan, minh} {
		sum, err := v.sync(ctx, url)
		if err != nil {
			return err
		}
		say("  %s đồng bộ: gửi %d, nhận %d thay đổi, %d xung đột mới.", "  %s syncs: pushed %d, pulled %d changes, %d new conflicts.", v.name, sum.Pushed, sum.Pulled, sum.Conflicts)
	}

	step(5, "Điều phối viên chuyển phản ánh cho UBND xã; máy của Hùng nhận kết quả ở lần đồng bộ sau.",
		"The coordinator dispatches the report to the commune; Hùng's laptop gets the outcome at its next sync.")
	tr, err := srv.Transition(ctx, rep, server.TransitionRequest{To: "dispatched", Agency: "UBND xã"})
	if err != nil {
		return err
	}
	say("  Máy chủ ghi: trạng thái %s → %s, cơ quan xử lý \"UBND xã\" (thay đổi đồng bộ của chính máy chủ).",
		"  The server writes: status %s → %s, agency \"UBND xã\" (synced changes of its own replica).", tr.From, tr.To)
	for _, v := range vs {
		if _, err := v.sync(ctx, url); err != nil {
			return err
		}
	}
	d, err := hung.r.Show(ctx, "field_reports", rep.String())
	if err != nil {
		return err
	}
	say("  Hùng thấy phản ánh: trạng thái %q, cơ quan %q — có thể báo lại cho người dân.", "  Hùng sees the report: status %q, agency %q — he can tell the resident.", d.Str("status"), d.Str("agency"))

	step(6, "Xung đột được giữ lại, không mất dữ liệu.", "Conflicts are kept: nothing is lost.")
	for _, v := range vs {
		cs, err := v.r.Conflicts(ctx, false)
		if err != nil {
			return err
		}
		for _, c := range cs {
			say("  %s thấy xung đột ở %s.%s: giữ %q (mới hơn), giá trị thua %q được lưu — khôi phục bằng: hamlet-agent conflicts restore %d",
				"  %s sees a conflict on %s.%s: kept %q (newer), the losing %q is stored — restore with: hamlet-agent conflicts restore %d",
				v.name, c.Table, c.Field, c.Winner.Value, c.Loser.Value, c.ID)
		}
	}

	step(7, "Trạng thái cuối cùng mà cả ba máy thống nhất.", "The final state all three laptops agree on.")
	lan.show(ctx, hh, oldID)
	snaps := make([]map[syncproto.FieldKey]syncproto.Version, len(vs))
	for i, v := range vs {
		if snaps[i], err = v.r.Snapshot(ctx); err != nil {
			return err
		}
	}
	same := reflect.DeepEqual(snaps[0], snaps[1]) && reflect.DeepEqual(snaps[1], snaps[2])
	if !same {
		return fmt.Errorf("the three replicas differ after syncing")
	}
	say("  Ba máy giống hệt nhau: %d giá trị trường, từng phiên bản một.", "  The three replicas are identical: %d field values, version for version.", len(snaps[0]))
	fmt.Println()
	say("Xong trong %s.", "Done in %s.", time.Since(start).Round(10*time.Millisecond))
	return nil
}

func (v *volunteer) sync(ctx context.Context, url string) (agent.SyncSummary, error) {
	sum, err := v.r.Sync(ctx, url, v.token, agent.SyncOptions{})
	if err != nil {
		return sum, fmt.Errorf("%s: sync: %s", v.name, agent.MessageOf(err, lang))
	}
	return sum, nil
}

func (v *volunteer) count(ctx context.Context, hamlet string) int {
	recs, err := v.r.List(ctx, "households", agent.ListOptions{Hamlet: hamlet})
	if err != nil {
		return -1
	}
	return len(recs)
}

// show prints what a volunteer's laptop shows of the two households.
func (v *volunteer) show(ctx context.Context, hh, old uuid.UUID) {
	d, err := v.r.Show(ctx, "households", hh.String())
	if err != nil {
		say("  [%s] không đọc được hộ: %v", "  [%s] cannot read the household: %v", v.name, err)
		return
	}
	smart := d.Fields["has_smartphone"] == true
	say("  [%s] hộ Trần Văn Tư: đ/t %s, %v người, địa chỉ %q, điện thoại thông minh: %v",
		"  [%s] Trần Văn Tư: phone %s, %v people, address %q, smartphone: %v", v.name, d.Str("phone"), d.Fields["members_count"], d.Str("address"), smart)
	o, err := v.r.Show(ctx, "households", old.String())
	switch {
	case err != nil:
		say("  [%s] hộ %s: không còn trên máy", "  [%s] household %s: no longer on this laptop", v.name, short(old))
	case o.Deleted && o.Str("notes") == "":
		say("  [%s] hộ %s: ĐÃ XÓA", "  [%s] household %s: DELETED", v.name, short(old))
	case o.Deleted:
		say("  [%s] hộ %s: ĐÃ XÓA (ghi chú %q vẫn lưu trong lịch sử, có thể khôi phục)", "  [%s] household %s: DELETED (the note %q stays in its history; it can be restored)", v.name, short(old), o.Str("notes"))
	default:
		say("  [%s] hộ %s: còn, ghi chú %q", "  [%s] household %s: present, note %q", v.name, short(old), o.Str("notes"))
	}
}

func short(id uuid.UUID) string { return id.String()[:8] }

func firstCategory() string {
	return "ha_tang_do_thi" // urban infrastructure (report-categories.csv)
}
