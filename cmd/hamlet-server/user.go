package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/term"

	"github.com/hamlet-vn/hamlet/internal/i18n"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/server/analytics"
)

func init() {
	register(command{name: "user add", vi: "thêm tài khoản trang tổng hợp (--username, --name, --role, --unit; mật khẩu đọc từ stdin hoặc --password-file)",
		en: "add a dashboard user (--username, --name, --role, --unit; password from stdin or --password-file)", run: runUserAdd})
	register(command{name: "user list", vi: "liệt kê tài khoản trang tổng hợp", en: "list dashboard users", run: runUserList})
	register(command{name: "user disable", vi: "khóa tài khoản và đăng xuất mọi phiên", en: "disable a user and end their sessions", run: runUserDisable,
		args: [2]string{"TÊN_ĐĂNG_NHẬP", "USERNAME"}})
	register(command{name: "user rebind", vi: "xác nhận đơn vị của tài khoản sau khi địa bàn đơn vị thay đổi (--unit để gắn với đơn vị khác)",
		en: "confirm an account's unit after the unit's area changed (--unit to bind it to another unit)", run: runUserRebind, args: [2]string{"TÊN_ĐĂNG_NHẬP", "USERNAME"}})
	register(command{name: "units reorganise", vi: "áp dụng sắp xếp đơn vị 2025 (--file camau-2025.csv, --hamlets ánh xạ ấp,xã)",
		en: "apply the 2025 reorganisation (--file camau-2025.csv, --hamlets hamlet,commune map)", run: runUnitsReorganise})
}

// readPassword reads the password from a file, or from stdin (without echo
// on a terminal). Only the first line counts.
func readPassword(e *env, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(strings.SplitN(string(b), "\n", 2)[0], "\r"), nil
	}
	if fd := int(os.Stdin.Fd()); term.IsTerminal(fd) {
		fmt.Fprint(e.stderr, e.msg("Mật khẩu: ", "Password: "))
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(e.stderr)
		return string(b), err
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func runUserAdd(ctx context.Context, e *env, args []string) error {
	fs := e.flags("user add")
	e.jsonFlag(fs)
	username := fs.String("username", "", e.msg("tên đăng nhập", "username"))
	name := fs.String("name", "", e.msg("họ tên hiển thị", "display name"))
	role := fs.String("role", "", "`"+strings.Join(userRoles, "|")+"` "+e.msg("vai trò: ", "role: ")+roleChoices(e))
	unit := fs.String("unit", "", e.msg("mã đơn vị (tỉnh 96, hoặc mã xã)", "unit code (province 96, or a commune code)"))
	pwFile := fs.String("password-file", "", e.msg("đọc mật khẩu từ tệp này thay vì stdin", "read the password from this file instead of stdin"))
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	if *username == "" || *name == "" || *role == "" || *unit == "" {
		return errors.New(e.msg("cần --username, --name, --role và --unit", "--username, --name, --role and --unit are required"))
	}
	if !slices.Contains(userRoles, *role) {
		return fmt.Errorf(e.msg("vai trò %q không có; chọn một trong: %s", "there is no role %q; pick one of: %s"), *role, roleChoices(e))
	}
	pw, err := readPassword(e, *pwFile)
	if err != nil {
		return err
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	u, err := s.Admin().AddUser(ctx, server.NewUser{Username: *username, DisplayName: *name, Role: analytics.Role(*role), UnitCode: *unit, Password: pw})
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(u)
	}
	e.printf("Đã thêm tài khoản %s (vai trò %s, đơn vị %s).\n", "Added user %s (role %s, unit %s).\n", u.Username, i18n.UserRoleLabel(string(u.Role), e.lang), u.UnitCode)
	return nil
}

func runUserList(ctx context.Context, e *env, args []string) error {
	fs := e.flags("user list")
	e.jsonFlag(fs)
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	us, err := s.Admin().Users(ctx)
	if err != nil {
		return err
	}
	if e.json {
		if us == nil {
			us = []server.User{}
		}
		return e.printJSON(us)
	}
	var rows [][]string
	names := unitNames(ctx, s)
	i18n.SortByKeys(us, func(u server.User) []string { return []string{u.DisplayName, u.Username} })
	for _, u := range us {
		state := e.msg("hoạt động", "active")
		if u.Disabled != nil {
			state = e.msg("đã khóa", "disabled")
		} else if u.UnitChangedOn != "" {
			state = fmt.Sprintf(e.msg("chờ xác nhận địa bàn (thay đổi từ %s)", "awaiting area confirmation (changed on %s)"), i18n.DateText(u.UnitChangedOn, e.lang))
		}
		rows = append(rows, []string{u.Username, u.DisplayName, i18n.UserRoleLabel(string(u.Role), e.lang), unitWithName(u.UnitCode, names), state})
	}
	e.table(e.msg("TÊN ĐĂNG NHẬP\tHỌ TÊN\tVAI TRÒ\tĐƠN VỊ\tTRẠNG THÁI", "USERNAME\tNAME\tROLE\tUNIT\tSTATE"), rows)
	return nil
}

func runUserDisable(ctx context.Context, e *env, args []string) error {
	fs := e.flags("user disable")
	byFlag := fs.String("username", "", e.msg("`TÊN_ĐĂNG_NHẬP` như viết sau tên lệnh (cách viết cũ)", "`USERNAME` as after the command's name (the older form)"))
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	name, err := e.one(fs, pos, *byFlag, e.msg("một tên đăng nhập (xem: hamlet-server user list)", "username (see: hamlet-server user list)"))
	if err != nil {
		return err
	}
	username := &name
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Admin().DisableUser(ctx, *username); err != nil {
		return err
	}
	e.printf("Đã khóa tài khoản %s.\n", "Disabled user %s.\n", *username)
	return nil
}

func runUnitsReorganise(ctx context.Context, e *env, args []string) error {
	fs := e.flags("units reorganise")
	e.jsonFlag(fs)
	file := fs.String("file", "", e.msg("tệp CSV đơn vị 2025 (mặc định: bản nhúng sẵn)", "2025 units CSV (default: the embedded one)"))
	hamlets := fs.String("hamlets", "", e.msg("CSV hamlet_code,commune_code cho các xã bị chia", "CSV hamlet_code,commune_code for split communes"))
	if err := e.parseNone(fs, args); err != nil {
		return err
	}
	units := schema.EmbeddedUnits2025()
	if *file != "" {
		f, err := os.Open(*file)
		if err != nil {
			return err
		}
		units, err = schema.ParseUnits2025(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *file, err)
		}
	}
	var moves []schema.HamletMove
	if *hamlets != "" {
		f, err := os.Open(*hamlets)
		if err != nil {
			return err
		}
		moves, err = schema.ParseHamletMoves(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", *hamlets, err)
		}
	}
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	hamletMap, err := e.checkHamletMoves(ctx, s, *hamlets, moves, units)
	if err != nil {
		return err
	}
	st, err := s.Admin().ApplyReorganisation(ctx, units, hamletMap)
	var uh *server.UnplacedHamletsError
	var se *server.SuccessionError
	if errors.As(err, &se) {
		file := *file
		if file == "" {
			file = e.msg("danh mục nhúng sẵn", "the embedded tree")
		}
		return fmt.Errorf(e.msg("%s: xã/phường mới %s (%s) mang mã của một xã/phường cũ mà nó không được hình thành từ đó: mã chỉ được dùng lại cho đơn vị kế thừa (mã phải có trong formed_from_codes của chính dòng đó). Hãy sửa commune_code hoặc formed_from_codes. Chưa có gì thay đổi.",
			"%s: new commune %s (%s) is the code of an old commune it is not formed from: a code passes only to a successor (it must be in that line's own formed_from_codes). Fix commune_code or formed_from_codes. Nothing was changed."),
			file, se.Unit, se.UnitName)
	}
	if errors.As(err, &uh) {
		var say []string
		if len(uh.Orphans) > 0 {
			say = append(say, fmt.Sprintf(e.msg("Không xã/phường mới nào được ghi là hình thành từ %s, nên các ấp/khóm %s sẽ không thuộc xã/phường nào: hãy thêm mã đó vào formed_from_codes của xã/phường mới nhận địa bàn (có thể mã bị gõ sai, hoặc thiếu dòng).",
				"No new commune is formed from %s, so hamlets %s would belong to no commune: add that code to the formed_from_codes of the new commune that takes its area (a code mistyped, or a line left out)."),
				unitList(uh.OrphanCommunes, unitNames(ctx, s)), strings.Join(uh.Orphans, ", ")))
		}
		if len(uh.Hamlets) > 0 {
			say = append(say, fmt.Sprintf(e.msg("%d ấp/khóm thuộc xã bị chia cho nhiều xã/phường mới, chưa biết chuyển về đâu: %s. Hãy ghi nơi mỗi ấp/khóm chuyển đến vào một tệp CSV có dòng tên cột hamlet_code,commune_code (ví dụ 32155-01,32152), rồi chạy lại với --hamlets TỆP.",
				"%d hamlets belong to communes split between several new ones, and where each goes is not said: %s. Write where each goes in a CSV file headed hamlet_code,commune_code (for example 32155-01,32152), then run again with --hamlets FILE."),
				len(uh.Hamlets), strings.Join(uh.Hamlets, ", ")))
		}
		return fmt.Errorf("%s %s", strings.Join(say, " "), e.msg("Chưa có gì thay đổi.", "Nothing was changed."))
	}
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(st)
	}
	e.printf("Đã áp dụng: %d đơn vị mới, %d đơn vị cũ đã sắp xếp (sáp nhập) vào đơn vị mới, %d ấp/khóm chuyển xã, %d tổ chuyển xã; nay có %d xã/phường.\n",
		"Applied: %d new units, %d old units reorganised (merged) into new ones, %d hamlets re-parented, %d teams moved; %d communes now.\n",
		st.Units, st.Retired, st.HamletsMoved, st.TeamsMoved, st.CommunesAfter)
	printUnitReview(e, st.Review, unitNames(ctx, s))
	return nil
}

// checkHamletMoves checks a hamlets file against the server's hamlets and
// the new tree's communes, naming the line of the first mistake, and
// returns its moves as ApplyReorganisation takes them.
func (e *env) checkHamletMoves(ctx context.Context, s *server.Server, file string, moves []schema.HamletMove, units []schema.AdminUnit) (map[string]string, error) {
	out := map[string]string{}
	if len(moves) == 0 {
		return out, nil
	}
	held, err := s.Admin().Units(ctx, "", "")
	if err != nil {
		return nil, err
	}
	hamlet := map[string]bool{}
	for _, u := range held {
		if u.Level == schema.LevelHamlet {
			hamlet[u.Code] = true
		}
	}
	commune := map[string]bool{}
	for _, u := range units {
		if u.Level == schema.LevelCommune {
			commune[u.Code] = true
		}
	}
	for _, m := range moves {
		switch {
		case !hamlet[m.Hamlet]:
			return nil, fmt.Errorf(e.msg("%s: dòng %d: máy chủ không có ấp/khóm mã %s; hãy sửa mã (hamlet-server unit list --commune MÃ_XÃ liệt kê các ấp/khóm). Chưa có gì thay đổi.",
				"%s: line %d: the server has no hamlet %s; fix the code (hamlet-server unit list --commune CODE lists a commune's hamlets). Nothing was changed."), file, m.Line, m.Hamlet)
		case !commune[m.Commune]:
			return nil, fmt.Errorf(e.msg("%s: dòng %d: %s không phải xã/phường của danh mục mới (ấp/khóm %s); hãy ghi mã xã/phường mới. Chưa có gì thay đổi.",
				"%s: line %d: %s is not a commune of the new tree (hamlet %s); write the new commune's code. Nothing was changed."), file, m.Line, m.Commune, m.Hamlet)
		}
		out[m.Hamlet] = m.Commune
	}
	return out, nil
}

// printUnitReview lists the accounts and teams bound to a unit whose area
// an import changed, and the command that confirms each account.
func printUnitReview(e *env, r server.UnitReview, names map[string]string) {
	if len(r.Accounts)+len(r.Teams) == 0 {
		return
	}
	change := map[string]schema.ExtentChange{}
	for _, c := range r.Units {
		change[c.Code] = c
	}
	describe := func(code string) string {
		c := change[code]
		if c.Retired {
			return fmt.Sprintf(e.msg("đã sắp xếp (sáp nhập) từ %s, địa bàn nay thuộc %s", "reorganised (merged) on %s, its area now in %s"),
				i18n.DateText(c.On, e.lang), unitList(c.Successors, names))
		}
		var from []string
		for _, p := range c.FormedFrom {
			if p.Partial {
				from = append(from, unitWithName(p.Code, names)+e.msg(" (một phần)", " (part)"))
			} else {
				from = append(from, unitWithName(p.Code, names))
			}
		}
		return fmt.Sprintf(e.msg("mã dùng lại từ %s cho đơn vị lập từ %s", "code reused from %s for the unit formed from %s"), i18n.DateText(c.On, e.lang), strings.Join(from, ", "))
	}
	if len(r.Accounts) > 0 {
		e.printf("\nTài khoản gắn với đơn vị đã thay đổi địa bàn: %d. Tới khi được xác nhận, các tài khoản này đăng nhập vào trang báo địa bàn đã thay đổi và không xem được số liệu.\n",
			"\nAccounts bound to a unit whose area changed: %d. Until confirmed they sign in to a page saying their area changed, and see no data.\n", len(r.Accounts))
		var rows [][]string
		for _, u := range r.Accounts {
			rows = append(rows, []string{u.Username, i18n.UserRoleLabel(string(u.Role), e.lang), unitWithName(u.UnitCode, names), describe(u.UnitCode)})
		}
		e.table(e.msg("TÊN ĐĂNG NHẬP\tVAI TRÒ\tĐƠN VỊ\tTHAY ĐỔI", "USERNAME\tROLE\tUNIT\tCHANGE"), rows)
		e.printf("Xác nhận từng tài khoản (hoặc gắn với đơn vị khác bằng --unit MÃ):\n", "Confirm each account (or bind it to another unit with --unit CODE):\n")
		for _, u := range r.Accounts {
			cmd := "  hamlet-server user rebind " + u.Username
			if c := change[u.UnitCode]; c.Retired {
				if len(c.Successors) == 1 {
					cmd += " --unit " + c.Successors[0]
				} else {
					cmd += e.msg(" --unit <MÃ>", " --unit <CODE>")
				}
			}
			fmt.Fprintln(e.stdout, cmd)
		}
	}
	if len(r.Teams) > 0 {
		e.printf("\nTổ gắn với đơn vị đã thay đổi địa bàn: %d. Tổ vẫn đồng bộ đúng các ấp/khóm của mình; hãy kiểm tra xã/phường của tổ (hamlet-server team list).\n",
			"\nTeams bound to a unit whose area changed: %d. Each still syncs its own hamlets; check the team's commune (hamlet-server team list).\n", len(r.Teams))
		var rows [][]string
		for _, t := range r.Teams {
			rows = append(rows, []string{t.ID, t.Name, unitWithName(t.CommuneCode, names), strings.Join(t.Hamlets, ","), describe(t.CommuneCode)})
		}
		e.table(e.msg("MÃ TỔ\tTÊN\tXÃ\tẤP/KHÓM\tTHAY ĐỔI", "TEAM ID\tNAME\tCOMMUNE\tHAMLETS\tCHANGE"), rows)
	}
}

func runUserRebind(ctx context.Context, e *env, args []string) error {
	fs := e.flags("user rebind")
	e.jsonFlag(fs)
	byFlag := fs.String("username", "", e.msg("`TÊN_ĐĂNG_NHẬP` như viết sau tên lệnh (cách viết cũ)", "`USERNAME` as after the command's name (the older form)"))
	unit := fs.String("unit", "", e.msg("`MÃ_ĐƠN_VỊ` gắn với đơn vị này (nếu không nêu: xác nhận đơn vị đang gắn, với địa bàn hiện nay)", "`UNIT_CODE` bind to this unit (if not given: confirm the unit it is bound to, with its present area)"))
	pos, err := e.parse(fs, args)
	if err != nil {
		return err
	}
	name, err := e.one(fs, pos, *byFlag, e.msg("một tên đăng nhập (xem: hamlet-server user list)", "username (see: hamlet-server user list)"))
	if err != nil {
		return err
	}
	username := &name
	s, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	u, err := s.Admin().RebindUser(ctx, *username, strings.TrimSpace(*unit))
	var re *server.UnitRetiredError
	switch {
	case errors.As(err, &re):
		names := unitNames(ctx, s)
		return fmt.Errorf("%s", fmt.Sprintf(e.msg("đơn vị %s đã sắp xếp (sáp nhập) từ %s: hãy gắn tài khoản với đơn vị mới bằng --unit (đơn vị nhận địa bàn: %s)",
			"unit %s was reorganised (merged) on %s: bind the account to a new unit with --unit (the units that took its area: %s)"),
			unitWithName(re.Code, names), i18n.DateText(re.RetiredOn, e.lang), unitList(re.Successors, names)))
	case errors.Is(err, server.ErrNotFound) && *unit == "":
		return fmt.Errorf("%s", fmt.Sprintf(e.msg("không có tài khoản %s; xem: hamlet-server user list", "no account %s; see: hamlet-server user list"), *username))
	case errors.Is(err, server.ErrNotFound):
		return fmt.Errorf("%s", fmt.Sprintf(e.msg("không có tài khoản %s hoặc đơn vị %s; xem: hamlet-server user list", "no account %s or no unit %s; see: hamlet-server user list"), *username, *unit))
	case err != nil:
		return err
	}
	if e.json {
		return e.printJSON(u)
	}
	e.printf("Đã xác nhận: tài khoản %s gắn với đơn vị %s với địa bàn hiện nay, và xem lại được số liệu.\n",
		"Confirmed: account %s is bound to unit %s with its present area, and sees data again.\n", u.Username, u.UnitCode)
	return nil
}

// unitNames names every unit the store knows, by code, as a person reads
// it ("phường An Xuyên"); empty when they cannot be read (the codes are
// then shown alone).
func unitNames(ctx context.Context, s *server.Server) map[string]string {
	names := map[string]string{}
	units, err := s.Admin().Units(ctx, "", "")
	if err != nil {
		return names
	}
	for _, u := range units {
		names[u.Code] = unitName(u)
	}
	return names
}

// unitName is a unit's name with its type when the name does not say it:
// "xã Tân Thuận", "Phường 4".
func unitName(u schema.AdminUnit) string {
	kind := map[string]string{"xa": "xã", "phuong": "phường", "thi_tran": "thị trấn", "huyen": "huyện", "thanh_pho": "thành phố", "thi_xa": "thị xã", "tinh": "tỉnh"}[u.Type]
	if kind == "" || strings.HasPrefix(strings.ToLower(u.Name), kind) {
		return u.Name
	}
	return kind + " " + u.Name
}

// unitWithName is "32002 (phường An Xuyên)", or the code alone.
func unitWithName(code string, names map[string]string) string {
	if n := names[code]; n != "" {
		return code + " (" + n + ")"
	}
	return code
}

func unitList(codes []string, names map[string]string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = unitWithName(c, names)
	}
	return strings.Join(out, ", ")
}

// userRoles are the dashboard's roles, as user add takes them.
var userRoles = []string{"provincial", "commune_leader", "coordinator", "operator"}

func roleChoices(e *env) string {
	out := make([]string, len(userRoles))
	for i, r := range userRoles {
		out[i] = r + " (" + i18n.UserRoleLabel(r, e.lang) + ")"
	}
	return strings.Join(out, ", ")
}
