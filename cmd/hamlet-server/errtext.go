package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/internal/migrate"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
)

// errText is an error as the operator reads it. The commands' own
// messages are already in the operator's language; what the system says
// about a file is English ("open x: no such file or directory"), so the
// usual cases are told in words, with the file's name.
func (e *env) errText(err error) string {
	var ne *migrate.NewerError
	if errors.As(err, &ne) {
		return fmt.Sprintf(e.msg("dữ liệu của máy chủ do một bản hamlet-server mới hơn ghi (phiên bản %d, bản này chỉ biết đến %d): hãy cài bản mới hơn; dữ liệu không bị thay đổi",
			"the server's data was written by a newer hamlet-server (version %d; this one knows up to %d): install the newer release; the data was not changed"), ne.Database, ne.Code)
	}
	var spe *schema.ParseError // a units or hamlets file's line to fix
	if errors.As(err, &spe) {
		return strings.Replace(err.Error(), spe.Error(), spe.Message(string(e.lang)), 1)
	}
	var pe *fs.PathError
	if e.lang == "en" || !errors.As(err, &pe) {
		return err.Error()
	}
	op := map[string]string{"open": "mở", "stat": "đọc thông tin", "read": "đọc", "write": "ghi", "mkdir": "tạo thư mục", "remove": "xóa", "rename": "đổi tên"}[pe.Op]
	if op == "" {
		op = "dùng"
	}
	why := pe.Err.Error()
	switch {
	case errors.Is(pe.Err, fs.ErrNotExist):
		why = "không có tệp hoặc thư mục này"
	case errors.Is(pe.Err, fs.ErrPermission):
		why = "không có quyền (kiểm tra quyền của tệp, hoặc chạy bằng người dùng khác)"
	case errors.Is(pe.Err, fs.ErrExist):
		why = "tệp đã tồn tại"
	case errors.Is(pe.Err, syscall.EISDIR):
		why = "đây là một thư mục, không phải tệp"
	case errors.Is(pe.Err, syscall.ENOTDIR):
		why = "một phần của đường dẫn là một tệp, không phải thư mục: hãy kiểm tra đường dẫn"
	case errors.Is(pe.Err, syscall.ENOSPC):
		why = "ổ đĩa đã đầy"
	}
	// Keep what the command said around it ("lịch làm việc x.json: ...").
	return strings.Replace(err.Error(), pe.Error(), fmt.Sprintf("không %s được tệp %s: %s", op, pe.Path, why), 1)
}

// named is what a command named for the store: the things a refusal may be
// about.
type named struct {
	commune string   // a commune code (team create, unit add-hamlets)
	hamlets []string // hamlet codes, of commune or of team's commune
	team    string   // a team id
	member  string   // a member id
	device  string   // a device id
}

// refusal is the one place where the store's refusal of what an operator
// named (no such commune, hamlet, team, member or device; a malformed code;
// a device that cannot be restored) becomes what the operator reads: which
// thing, and what to do, in the operator's language. The server's errors
// are English and say only "not found": which of the named things is
// missing is looked up, in the order a command depends on them. Anything
// else is returned as it is.
func (e *env) refusal(ctx context.Context, s *server.Server, err error, n named) error {
	say := func(vi, en string, args ...any) error { return fmt.Errorf("%s", fmt.Sprintf(e.msg(vi, en), args...)) }
	var ve *schema.ValidationError
	var re *server.ReplicaError
	var he *server.HamletElsewhereError
	var cr *server.CommuneRetiredError
	switch {
	case err == nil:
		return nil
	case n.device != "" && errors.Is(err, server.ErrNotRevoked):
		return say("thiết bị %s chưa bị thu hồi nên không cần khôi phục; mã truy cập của nó vẫn dùng được",
			"device %s is not revoked, so there is nothing to restore; its token works", n.device)
	case n.device != "" && errors.As(err, &re) && errors.Is(err, server.ErrReplaced):
		return say("thiết bị %s đã được thay bằng thiết bị %s (máy đó đăng ký lại và đang giữ mã truy cập của %s); hãy khôi phục thiết bị mới: hamlet-server device restore %s",
			"device %s was replaced by device %s (the laptop enrolled again and holds %s's token); restore the newer one: hamlet-server device restore %s",
			n.device, re.DeviceID, re.DeviceID, re.DeviceID)
	case n.device != "" && errors.As(err, &re) && errors.Is(err, server.ErrReplicaActive):
		return say("dữ liệu của thiết bị %s đã được đăng ký lại và đang hoạt động trên thiết bị %s; một bản dữ liệu chỉ được hoạt động trên một thiết bị. Máy đó tiếp tục dùng thiết bị %s; nếu thật sự cần quay lại thiết bị cũ, hãy thu hồi %s trước (hamlet-server device revoke %s)",
			"device %s's replica was enrolled again and is active on device %s; one replica may be active on one device only. The laptop keeps working as %s; to go back to the old device, revoke %s first (hamlet-server device revoke %s)",
			n.device, re.DeviceID, re.DeviceID, re.DeviceID, re.DeviceID)
	case errors.As(err, &ve):
		switch {
		case ve.Field == "commune_code":
			return say("mã xã/phường %q không đúng: mã xã/phường là 5 chữ số, ví dụ 32248; xem mã các xã/phường: hamlet-server unit list",
				"commune code %q is malformed: a commune code is 5 digits, e.g. 32248; see the communes: hamlet-server unit list", n.commune)
		case ve.Field == "team_id": // a malformed id is no team either
			return e.missing(ctx, s, err, named{team: n.team})
		case ve.Field == "hamlet_codes" && ve.Code == schema.CodeRequired:
			return say("cần ít nhất một mã ấp/khóm trong --hamlets, ví dụ %s-01", "--hamlets needs at least one hamlet code, e.g. %s-01", n.commune)
		case ve.Field == "hamlet_codes":
			seen := map[string]bool{}
			for _, h := range n.hamlets {
				switch {
				case schema.ValidateHamletCode(h) != nil:
					return say("mã ấp/khóm %q không đúng: viết mã xã/phường-số thứ tự, ví dụ %s-01", "hamlet code %q is malformed: write commune code-number, e.g. %s-01", h, n.commune)
				case seen[h]:
					return say("ấp/khóm %s được nêu hai lần trong --hamlets: nêu mỗi ấp/khóm một lần", "hamlet %s is given twice in --hamlets: give each once", h)
				}
				seen[h] = true
			}
		}
		return errors.New(ve.Message(e.lang))
	case errors.As(err, &he):
		// A hamlet's commune is its parent, not its code's first five
		// digits (the 2025 merger moved hamlets and kept their codes).
		// A commune that does not exist is told as such.
		if m := e.missing(ctx, s, err, named{commune: n.commune}); m != err {
			return m
		}
		if note := e.retiredNote(ctx, s, he.Commune); note != "" && e.succeeds(ctx, s, he.Commune, he.Parent) {
			// The commune named is gone, and the hamlet's commune took
			// (some of) its area: the hamlet is likely one of its own,
			// moved with it, and the team belongs there.
			return say("ấp/khóm %s nay thuộc xã/phường %s, không thuộc %s. %s; hãy lập tổ với --commune %s",
				"hamlet %s is now in commune %s, not in %s. %s; make the team with --commune %s",
				he.Hamlet, unitWithName(he.Parent, unitNames(ctx, s)), he.Commune, capitalise(note), he.Parent)
		}
		return say("ấp/khóm %s không thuộc xã/phường %s (ấp/khóm này thuộc xã/phường %s): một tổ chỉ phụ trách ấp/khóm của xã/phường mình; xem các ấp/khóm: hamlet-server unit list --commune %s",
			"hamlet %s is not in commune %s (it is in commune %s): a team covers hamlets of its own commune only; see them: hamlet-server unit list --commune %s",
			he.Hamlet, he.Commune, he.Parent, he.Commune)
	case errors.As(err, &cr):
		names := unitNames(ctx, s)
		where := e.msg("<MÃ>", "<CODE>")
		if len(cr.Successors) == 1 {
			where = cr.Successors[0]
		}
		this := fmt.Sprintf(e.msg("không thêm được ấp/khóm cho xã/phường %s", "no hamlets can be added to commune %s"), unitWithName(cr.Commune, names))
		if cr.Hamlet != "" {
			this = fmt.Sprintf(e.msg("không thêm được ấp/khóm %s: mã này thuộc xã/phường %s", "hamlet %s cannot be added: its code is of commune %s"), cr.Hamlet, unitWithName(cr.Commune, names))
		}
		return say("%s: xã/phường này đã sắp xếp (sáp nhập) từ %s, địa bàn (cùng các ấp/khóm cũ của nó) nay thuộc %s. Hãy thêm ấp/khóm bằng mã xã/phường mới: hamlet-server unit add-hamlets --commune %s --count SỐ (ấp/khóm mới mang mã %s-NN); xem các ấp/khóm đã có: hamlet-server unit list --commune %s",
			"%s: it was reorganised (merged) on %s, and its area (with its hamlets) is now in %s. Add hamlets under the new commune's code: hamlet-server unit add-hamlets --commune %s --count N (new hamlets get codes %s-NN); see its hamlets: hamlet-server unit list --commune %s",
			this, i18n.DateText(cr.RetiredOn, e.lang), unitList(cr.Successors, names), where, where, where)
	case errors.Is(err, server.ErrNotFound):
		return e.missing(ctx, s, err, n)
	}
	return err
}

// missing says which of the things named is not in the store, looked up
// in the order a command depends on them; err if none is found missing
// (or they cannot be read).
func (e *env) missing(ctx context.Context, s *server.Server, err error, n named) error {
	say := func(vi, en string, args ...any) error { return fmt.Errorf("%s", fmt.Sprintf(e.msg(vi, en), args...)) }
	a := s.Admin()
	commune := n.commune
	if commune != "" {
		communes, lerr := a.Units(ctx, schema.LevelCommune, "")
		if lerr != nil {
			return err
		}
		if len(communes) == 0 {
			return say("chưa có danh mục đơn vị hành chính nên không có xã/phường %s; hãy nạp danh mục: hamlet-server units import",
				"no units are imported, so there is no commune %s; import them: hamlet-server units import", commune)
		}
		if !slices.ContainsFunc(communes, func(u schema.AdminUnit) bool { return u.Code == commune }) {
			return say("không có xã/phường %s; xem mã các xã/phường: hamlet-server unit list", "no commune %s; see the communes: hamlet-server unit list", commune)
		}
	}
	if n.team != "" {
		teams, lerr := a.Teams(ctx)
		if lerr != nil {
			return err
		}
		i := slices.IndexFunc(teams, func(t server.Team) bool { return t.ID == n.team })
		if i < 0 {
			return say("không có tổ %s; xem mã các tổ: hamlet-server team list", "no team %s; see the team ids: hamlet-server team list", n.team)
		}
		commune = teams[i].CommuneCode
	}
	if len(n.hamlets) > 0 {
		hamlets, lerr := a.Units(ctx, schema.LevelHamlet, commune)
		if lerr != nil {
			return err
		}
		for _, h := range n.hamlets {
			if !slices.ContainsFunc(hamlets, func(u schema.AdminUnit) bool { return u.Code == h }) {
				return say("không có ấp/khóm %s ở xã/phường %s; xem các ấp/khóm đã có: hamlet-server unit list --commune %s; thêm ấp/khóm: hamlet-server unit add-hamlets --commune %s --count SỐ (hoặc --file)",
					"no hamlet %s in commune %s; see its hamlets: hamlet-server unit list --commune %s; add hamlets: hamlet-server unit add-hamlets --commune %s --count N (or --file)", h, commune, commune, commune)
			}
		}
	}
	switch {
	case n.member != "":
		return say("không có thành viên %s; mã thành viên được in khi thêm (hamlet-server member add) và hiện trong hamlet-server code list",
			"no member %s; a member's id is printed when added (hamlet-server member add) and shown by hamlet-server code list", n.member)
	case n.device != "":
		return say("không có thiết bị %s; xem mã các thiết bị: hamlet-server device list", "no device %s; see the device ids: hamlet-server device list", n.device)
	}
	return err
}

// retiredNote says, when commune was reorganised (merged) away, since when
// and which communes took its area; "" while it is in force or unknown.
func (e *env) retiredNote(ctx context.Context, s *server.Server, commune string) string {
	units, err := s.Admin().Units(ctx, "", "")
	if err != nil {
		return ""
	}
	for _, u := range units {
		if u.Code == commune && u.Level == schema.LevelCommune && u.RetiredOn != "" {
			names := unitNames(ctx, s)
			return fmt.Sprintf(e.msg("xã/phường %s đã sắp xếp (sáp nhập) từ %s, địa bàn nay thuộc %s", "commune %s was reorganised (merged) on %s, its area now in %s"),
				unitWithName(commune, names), i18n.DateText(u.RetiredOn, e.lang), unitList(server.Successors(units, commune), names))
		}
	}
	return ""
}

// succeeds says whether commune to took (some of) the area of commune
// from in a reorganisation.
func (e *env) succeeds(ctx context.Context, s *server.Server, from, to string) bool {
	units, err := s.Admin().Units(ctx, "", "")
	return err == nil && slices.Contains(server.Successors(units, from), to)
}

// capitalise upper-cases a sentence's first letter.
func capitalise(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}
