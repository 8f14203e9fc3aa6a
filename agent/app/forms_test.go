package app_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// fieldError is the message the page shows next to a field, "" if none.
func fieldError(body, field string) string {
	m := regexp.MustCompile(`<p class="field-error" id="err-` + regexp.QuoteMeta(field) + `">([^<]*)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// saved counts what the replica holds: every change queued, and the rows.
func (h *harness) saved() string {
	h.t.Helper()
	var n, rows int
	require.NoError(h.t, h.r.DB().QueryRowContext(context.Background(), `SELECT count(*) FROM outbox`).Scan(&n))
	require.NoError(h.t, h.r.DB().QueryRowContext(context.Background(), `SELECT count(*) FROM row_state`).Scan(&rows))
	return strconv.Itoa(n) + " changes, " + strconv.Itoa(rows) + " rows"
}

// Every form's bad input gets a message next to the field, in the
// volunteer's language, all of them at once, what was typed is kept, and
// nothing is saved.
func TestBadInputIsToldNextToTheField(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	id := h.addHousehold(hamlet1, "Nguyễn Văn An", "0912345678")
	long := strings.Repeat("x", 2001)
	type want map[string]string // field -> part of its message
	tests := []struct {
		name string
		path string
		form url.Values
		want want
	}{
		{"household: required, phone, number, dates, hamlet", "/households/new",
			url.Values{"hamlet_code": {""}, "head_name": {"  "}, "phone": {"12345"}, "members_count": {"nhiều"}, "registered_on": {"31/02/2026"}},
			want{"hamlet_code": "Chưa chọn ấp/khóm", "head_name": "Chưa nhập tên chủ hộ", "phone": "Số điện thoại không hợp lệ",
				"members_count": "phải là số nguyên", "registered_on": "không phải ngày hợp lệ"}},
		{"household: out of range, future, too long, not my hamlet", "/households/new",
			url.Values{"hamlet_code": {"32167-01"}, "head_name": {"Trần Thị Bình"}, "members_count": {"60"}, "registered_on": {"01/01/2099"}, "notes": {long}},
			want{"hamlet_code": "không thuộc địa bàn tổ bạn phụ trách", "members_count": "từ 1 đến 50", "registered_on": "ở tương lai", "notes": "tối đa 2000 ký tự"}},
		{"household edit: a bad phone changes nothing", "/households/" + id + "/edit",
			url.Values{"hamlet_code": {hamlet1}, "head_name": {"Nguyễn Văn An"}, "phone": {"0912"}, "active": {"on"}},
			want{"phone": "Số điện thoại không hợp lệ"}},
		{"visit: date, outcome missing, unknown skill", "/households/" + id + "/visit",
			url.Values{"visited_on": {"hôm qua"}, "skill": {"vneid_install", "bay"}, "person_name": {strings.Repeat("a", 201)}},
			want{"visited_on": "không phải ngày hợp lệ", "outcome-vneid_install": "Hãy chọn kết quả hướng dẫn «Cài đặt ứng dụng VNeID»",
				"skills": "không có trong danh mục", "person_name": "tối đa 200 ký tự"}},
		{"visit: a date in the future", "/households/" + id + "/visit",
			url.Values{"visited_on": {"01/01/2099"}, "skill": {"ehealth_record"}, "outcome-ehealth_record": {"independent"}},
			want{"visited_on": "ở tương lai"}},
		{"report: category, description, phone, consent, time", "/reports/new?household=" + id,
			url.Values{"category": {"nhà cửa"}, "description": {""}, "reporter_phone": {"abc"}, "occurred_at": {"25:99"}},
			want{"category": "không có trong danh mục", "description": "Chưa nhập nội dung phản ánh", "reporter_phone": "Số điện thoại không hợp lệ",
				"consent_disclose": "Hãy hỏi người dân", "occurred_at": "không phải ngày giờ hợp lệ"}},
		{"report about a place: the hamlet", "/reports/new",
			url.Values{"category": {"dien_chieu_sang"}, "description": {"Đèn hỏng"}, "consent_disclose": {"yes"}},
			want{"hamlet_code": "Chưa chọn ấp/khóm"}},
		{"enroll: no code", "/enroll", url.Values{"code": {" "}, "server": {"http://127.0.0.1:1"}},
			want{"code": "Chưa nhập mã đăng ký"}},
		{"enroll: a server address that is not one", "/enroll", url.Values{"code": {"ABCD-2345"}, "server": {"ftp://máy chủ"}},
			want{"server": "không đúng dạng"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := h.saved()
			status, body, _ := h.post(tt.path, tt.form)
			require.Equal(t, http.StatusUnprocessableEntity, status, body)
			for field, msg := range tt.want {
				require.Contains(t, fieldError(body, field), msg, "the message next to %s", field)
				require.Regexp(t, `id="`+regexp.QuoteMeta(field)+`"[^>]*aria-invalid="true"`, body, "%s is marked invalid", field)
				require.Regexp(t, `href="#`+regexp.QuoteMeta(field)+`"`, body, "the summary links to %s", field)
			}
			require.Contains(t, body, "chưa lưu gì")
			for k, v := range tt.form {
				// A select keeps only its own options: what was forged is not shown.
				if k != "csrf" && k != "category" && k != "skill" && len(v[0]) < 100 && strings.TrimSpace(v[0]) != "" {
					require.Contains(t, body, html.EscapeString(v[0]), "what was typed in %s is kept", k)
				}
			}
			require.Equal(t, before, h.saved(), "nothing was saved")
		})
	}

	// In English, the same in English.
	status, _, _ := h.post("/lang", url.Values{"to": {"en"}, "back": {"/"}})
	require.Equal(t, http.StatusSeeOther, status)
	status, body, _ := h.post("/households/new", url.Values{"hamlet_code": {hamlet1}, "phone": {"12345"}})
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Contains(t, fieldError(body, "head_name"), "Head of household's name is missing")
	require.Contains(t, fieldError(body, "phone"), "Invalid phone number")
}

// A refused change fixed with a bad value gets the message next to its
// fix field; the change stays in the list.
func TestFixWithBadValue(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	h.addHousehold(hamlet1, "Nguyễn Văn An", "0912345678")
	ctx := context.Background()
	var seq int64
	require.NoError(t, h.r.DB().QueryRowContext(ctx, `SELECT seq FROM outbox WHERE field = 'registered_on'`).Scan(&seq))
	// As the server refuses a date after its tomorrow (server/apply.go's refusalOf).
	_, err := h.r.DB().ExecContext(ctx, `UPDATE outbox SET state = 2, value = '2099-01-01', code = 'invalid_value',
		reason = 'in_future: Ngày đăng ký ở tương lai (sau ngày mai): hãy kiểm tra ngày và đồng hồ trên máy rồi nhập lại.' WHERE seq = ?`, seq)
	require.NoError(t, err)
	key := "fix-" + strconv.FormatInt(seq, 10)
	_, body := h.get("/sync")
	require.Contains(t, body, "Ngày đăng ký ở tương lai", "the reason in words")
	require.Contains(t, body, `value="01/01/2099"`, "the fix field holds the refused date, day first")

	before := h.saved()
	status, body, _ := h.post("/sync/rejected/"+strconv.FormatInt(seq, 10)+"/fix", url.Values{key: {"32/13/2026"}})
	require.Equal(t, http.StatusUnprocessableEntity, status, body)
	require.Contains(t, fieldError(body, key), "không phải ngày hợp lệ")
	require.Equal(t, before, h.saved())
	rej, err := h.r.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1, "the refused change is still there")

	status, body, loc := h.post("/sync/rejected/"+strconv.FormatInt(seq, 10)+"/fix", url.Values{key: {"02/12/2026"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	require.Equal(t, "/sync?done=fixed#rejected", loc)
	rej, err = h.r.Rejected(ctx)
	require.NoError(t, err)
	require.Empty(t, rej)
}

// A visit refused because its household is not on the server says so,
// naming the household and what fixes it, not a rule of the visit's own
// fields.
func TestRejectedVisitOfAMissingHousehold(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	id := h.addHousehold(hamlet1, "Nguyễn Văn An", "0912345678")
	status, body, _ := h.post("/households/"+id+"/visit", url.Values{"visited_on": {"02/12/2026"}, "skill": {"ehealth_record"}, "outcome-ehealth_record": {"independent"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	ctx := context.Background()
	// As the server refuses a visit of a household it does not hold
	// (server/apply.go parentMissing).
	_, err := h.r.DB().ExecContext(ctx, `UPDATE outbox SET state = 2, code = 'invalid_value', reason = ? WHERE tbl = 'visits'`,
		`why:"household_missing" "household"="`+id+`" "table"="visits"`)
	require.NoError(t, err)
	_, body = h.get("/sync")
	require.Contains(t, body, "Hộ "+id+" chưa có trên máy chủ", "the reason names the household")
	require.Contains(t, body, "Hãy sửa và gửi lại hộ đó")
}

// Dropping a refused household the server never took removes it and its
// visits from the laptop for good: the first press says so and asks
// again; the second drops, and the notice says what went. A refused edit
// of a household the laptop keeps drops at the first press.
func TestDroppingARefusedNewHouseholdWarnsOfItsVisits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	id := h.addHousehold(hamlet1, "Nguyễn Văn An", "0912345678")
	status, body, _ := h.post("/households/"+id+"/visit", url.Values{"visited_on": {"02/12/2026"}, "skill": {"ehealth_record"}, "outcome-ehealth_record": {"independent"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	other := h.addHousehold(hamlet1, "Trần Thị Bình", "0912345679")
	ctx := context.Background()
	// As the server refuses a household (its registration date) and the
	// records of it (its absence): server/apply.go.
	_, err := h.r.DB().ExecContext(ctx, `UPDATE outbox SET state = 2, code = 'invalid_value', reason = ? WHERE row_id = ?`,
		`why:"in_future" "field"="registered_on"`, id)
	require.NoError(t, err)
	_, err = h.r.DB().ExecContext(ctx, `UPDATE outbox SET state = 2, code = 'invalid_value', reason = ? WHERE tbl != 'households'`,
		`why:"household_missing" "household"="`+id+`" "table"="visits"`)
	require.NoError(t, err)
	_, err = h.r.DB().ExecContext(ctx, `UPDATE outbox SET state = 2, code = 'invalid_value', reason = ? WHERE row_id = ? AND field = 'phone'`,
		`why:"in_future" "field"="phone"`, other)
	require.NoError(t, err)
	// The other household's other changes count as taken.
	_, err = h.r.DB().ExecContext(ctx, `DELETE FROM outbox WHERE row_id = ? AND state != 2`, other)
	require.NoError(t, err)

	rej, err := h.r.Rejected(ctx)
	require.NoError(t, err)
	group := func(row string) (first string, ids string) {
		var l []string
		for _, x := range rej {
			if x.Row == row {
				l = append(l, strconv.FormatInt(x.ID, 10))
			}
		}
		require.NotEmpty(t, l, row)
		return l[0], strings.Join(l, ",")
	}
	first, ids := group(id)
	status, body, loc := h.post("/sync/rejected/"+first+"/discard", url.Values{"ids": {ids}})
	require.Equal(t, http.StatusSeeOther, status, body)
	require.Equal(t, "/sync?confirm="+first+"&n=2#rej-"+first, loc, "the first press asks again")
	_, err = h.r.Show(ctx, "households", id)
	require.NoError(t, err, "nothing is dropped yet")
	_, body = h.get(loc)
	require.Contains(t, body, "Máy chủ chưa nhận hộ này: bỏ đi thì hộ và 2 bản ghi của hộ", "it says the visit and the skill taught go with it")
	require.Contains(t, body, `name="confirm" value="1"`)
	require.Equal(t, 1, strings.Count(body, "Máy chủ chưa nhận"), "only the card pressed asks")

	require.Contains(t, body, `name="n" value="2"`)

	// One more visit logged to the household before the second press
	// (another tab): more would go than the warning said, so it asks again.
	status, body, _ = h.post("/households/"+id+"/visit", url.Values{"visited_on": {"03/12/2026"}, "notes": {"thêm"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	status, body, loc = h.post("/sync/rejected/"+first+"/discard", url.Values{"ids": {ids}, "confirm": {"1"}, "n": {"2"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	require.Equal(t, "/sync?confirm="+first+"&n=3#rej-"+first, loc, "asked of 2 records, 3 would go: it asks again")
	_, body = h.get(loc)
	require.Contains(t, body, "Máy chủ chưa nhận hộ này: bỏ đi thì hộ và 3 bản ghi của hộ")

	status, body, loc = h.post("/sync/rejected/"+first+"/discard", url.Values{"ids": {ids}, "confirm": {"1"}, "n": {"3"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	require.Equal(t, "/sync?done=dropped&n=3#rejected", loc)
	_, body = h.get(loc)
	require.Contains(t, body, "Đã bỏ hộ bị từ chối và xóa khỏi máy này cả hộ và 3 bản ghi của hộ.")
	_, err = h.r.Show(ctx, "households", id)
	require.Error(t, err, "the household is gone")

	rej, err = h.r.Rejected(ctx)
	require.NoError(t, err)
	require.Len(t, rej, 1, "only the other household's refused phone is left")
	first, ids = group(other)
	status, body, loc = h.post("/sync/rejected/"+first+"/discard", url.Values{"ids": {ids}})
	require.Equal(t, http.StatusSeeOther, status, body)
	require.Equal(t, "/sync?done=discarded#rejected", loc, "a household the laptop keeps: dropped at once")
	_, err = h.r.Show(ctx, "households", other)
	require.NoError(t, err)
}

// «Send again» into a hamlet the team no longer covers, as the last sync
// named its hamlets, is refused at once with the message next to the
// card, saying to sync first if the team has just got the hamlet back;
// the refusal stays listed, and sending it again to a hamlet the team
// covers works (seed 5803541).
func TestSendAgainIntoALostHamletSaysSo(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	h.addHousehold(hamlet1, "Nguyễn Văn An", "0912345678")
	ctx := context.Background()
	var seq int64
	require.NoError(t, h.r.DB().QueryRowContext(ctx, `SELECT seq FROM outbox WHERE field = 'hamlet_code'`).Scan(&seq))
	_, err := h.r.DB().ExecContext(ctx, `UPDATE outbox SET state = 2, code = 'moved_out_of_scope',
		reason = 'hamlet_removed: Ấp/khóm đã chuyển khỏi tổ.' WHERE seq = ?`, seq)
	require.NoError(t, err)
	// The sync's Welcome: the team now covers hamlet2 alone.
	e, err := h.r.Enrollment(ctx)
	require.NoError(t, err)
	e.Scope = e.Scope[1:]
	require.NoError(t, h.r.SetEnrollment(ctx, e))

	key := "fix-" + strconv.FormatInt(seq, 10)
	path := "/sync/rejected/" + strconv.FormatInt(seq, 10) + "/fix"
	status, body, _ := h.post(path, url.Values{key: {""}})
	require.Equal(t, http.StatusUnprocessableEntity, status, body)
	msg := fieldError(body, key)
	require.Contains(t, msg, "không thuộc địa bàn tổ bạn phụ trách")
	require.Contains(t, msg, "hãy đồng bộ rồi làm lại")
	rej, err := h.r.Rejected(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, rej, "the refused change is still there")

	status, body, loc := h.post(path, url.Values{key: {hamlet2}})
	require.Equal(t, http.StatusSeeOther, status, body)
	require.Equal(t, "/sync?done=fixed#rejected", loc)
	rej, err = h.r.Rejected(ctx)
	require.NoError(t, err)
	require.Empty(t, rej)
}
