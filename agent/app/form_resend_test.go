package app_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
)

// R1: an unchecked box and an empty number have no shown_* copy, so an edit
// that touched only the address puts back what the form showed over what
// another command wrote while the form was open.
// An unticked box and an empty count the edit form showed are kept as
// another command set them while the form was open: they had no copy of
// what was shown (review 42b, helper 96).
func TestAnEditFormKeepsABoxAndACountAnotherCommandSet(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	id := h.addHousehold(hamlet1, "Nguyễn Văn An", "0912345678")
	_, body := h.get("/households/" + id + "/edit")
	form := editFormValues(t, body)

	cli := agenttest.Open(t, filepath.Join(h.dir, "replica.db"))
	uid, _ := uuid.Parse(id)
	require.NoError(t, cli.EditHousehold(context.Background(), uid, agent.Fields{"has_smartphone": true, "members_count": int64(5)}))

	form.Set("address", "Số 5, đường Lê Lợi")
	status, body, _ := h.post("/households/"+id+"/edit", form)
	require.Equal(t, http.StatusSeeOther, status, body)
	d, err := h.r.Show(context.Background(), "households", id)
	require.NoError(t, err)
	require.Equal(t, "Số 5, đường Lê Lợi", d.Str("address"))
	assert.Equal(t, true, d.Fields["has_smartphone"], "the box the CLI ticked while the form was open")
	assert.Equal(t, int64(5), d.Fields["members_count"], "the count the CLI wrote while the form was open")
}

// R2: a form arriving again with the same rid but other content (Back,
// change, Save; or a visit form whose rid names another household's
// visit) answers "saved" and saves nothing of what was typed.
// A form's key sent again with other content (the volunteer went back,
// changed the form and saved) is another record, not "saved" and dropped
// (review 42b, helper 96).
func TestAFormKeySentAgainWithOtherContentAddsTheOtherRecord(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	_, page := h.get("/households/new")
	rid := formKey(t, page)
	s1, _, loc1 := h.post("/households/new", url.Values{"hamlet_code": {hamlet1}, "head_name": {"Hộ Thứ Nhất"}, "active": {"on"}, "rid": {rid}})
	require.Equal(t, http.StatusSeeOther, s1)
	s2, _, loc2 := h.post("/households/new", url.Values{"hamlet_code": {hamlet1}, "head_name": {"Hộ Thứ Hai"}, "active": {"on"}, "rid": {rid}})
	t.Logf("second post: %d %s (first went to %s)", s2, loc2, loc1)
	hs, err := h.r.Search(context.Background(), "Hộ Thứ Hai", agent.ListOptions{})
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, s2)
	require.NotEqual(t, loc1, loc2, "the other household has its own page")
	require.Len(t, hs, 1, "the app said saved (%s), the second household is not there", loc2)
}

// A visit form's key carried to another household's visit form (a stale
// or hostile form) saves that visit (review 42b, helper 96).
func TestAVisitKeyCarriedToAnotherHouseholdSavesItsVisit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	a := h.addHousehold(hamlet1, "Hộ A", "0912345678")
	b := h.addHousehold(hamlet1, "Hộ B", "0912345679")
	_, page := h.get("/households/" + a + "/visit")
	rid := formKey(t, page)
	s, body, _ := h.post("/households/"+a+"/visit", url.Values{"visited_on": {"02/12/2026"}, "notes": {"thăm A"}, "rid": {rid}})
	require.Equal(t, http.StatusSeeOther, s, body)
	s, _, loc := h.post("/households/"+b+"/visit", url.Values{"visited_on": {"02/12/2026"}, "notes": {"thăm B"}, "rid": {rid}})
	t.Logf("visit for B: %d %s", s, loc)
	d, err := h.r.Show(context.Background(), "households", b)
	require.NoError(t, err)
	require.Equal(t, http.StatusSeeOther, s)
	require.Len(t, d.Visits, 1, "the app said the visit to B was saved (%s)", loc)
}

// R3: a report with a photo refused for a reason no field's (busy replica):
// the page says "what you typed is still below" but the chosen photo is
// gone from the form and it does not say to choose it again (photos_again
// is shown only with field errors): saved again, the report has no photo.
// A report refused because the replica was busy says to choose its
// photos again: the browser does not keep them (review 42b, helper 96).
func TestABusyReportSaysToChooseThePhotosAgain(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	release := holdReplica(t, h)
	jpg := phototest.JPEG(phototest.Image(800, 600, true, 1), 85)
	status, body, _ := h.postFiles("/reports/new", map[string]string{"hamlet_code": hamlet1, "category": "ha_tang_do_thi", "description": "Cống bị tắc", "consent_disclose": "no", "rid": uuid.NewString()}, map[string][]byte{"a.jpg": jpg})
	release()
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Contains(t, body, "Cống bị tắc")
	require.Contains(t, body, "hãy chọn lại ảnh", "the photo chosen is not kept by the browser: the page must say to choose it again")
}

// A report form's key carried to another household's report form saves
// that report: the household is in the query, which the id left out
// (review 42c, helper 97).
func TestAReportKeyCarriedToAnotherHouseholdSavesItsReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	a := h.addHousehold(hamlet1, "Hộ A", "0912345678")
	b := h.addHousehold(hamlet1, "Hộ B", "0912345679")
	_, page := h.get("/reports/new?household=" + a)
	rid := formKey(t, page)
	fields := func() map[string]string {
		return map[string]string{"category": "ha_tang_do_thi", "description": "Cống bị tắc", "occurred_at": "02/12/2026 08:00", "consent_disclose": "no", "rid": rid}
	}
	s, body, _ := h.postFiles("/reports/new?household="+a, fields(), nil)
	require.Equal(t, http.StatusSeeOther, s, body)
	s, body, loc := h.postFiles("/reports/new?household="+b, fields(), nil)
	require.Equal(t, http.StatusSeeOther, s, body)
	d, err := h.r.Show(context.Background(), "households", b)
	require.NoError(t, err)
	require.Len(t, d.Reports, 1, "the app said the report on B was saved (%s)", loc)
}
