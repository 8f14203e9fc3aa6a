package app_test

import (
	"context"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
)

// A report deleted by a command still offered "attach a photo", and
// attaching answered 500.
func TestADeletedReportsPageOffersNoPhotoAndSaysWhy(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	ctx := context.Background()
	form := map[string]string{"hamlet_code": hamlet1, "category": "ha_tang_do_thi", "description": "Cống bị tắc", "consent_disclose": "no"}
	st, body, _ := h.postFiles("/reports/new", form, map[string][]byte{})
	require.Equal(t, 303, st, body)
	recs, err := h.r.List(ctx, "field_reports", agent.ListOptions{})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	rid := recs[0].ID
	cli := agenttest.Open(t, filepath.Join(h.dir, "replica.db"))
	require.NoError(t, cli.Delete(ctx, "field_reports", uuid.MustParse(rid)))
	_, body = h.get("/reports")
	t.Logf("list still has it: %v", regexp.MustCompile(rid).MatchString(body))
	st, body = h.get("/reports/" + rid)
	t.Logf("GET deleted report %d, offers photo form: %v", st, regexp.MustCompile(`id="photo-form"`).MatchString(body))
	require.NotContains(t, body, `id="photo-form"`, "a deleted report's page offers to attach a photo")
	jpg := phototest.JPEG(phototest.Image(200, 150, true, 1), 85)
	st, body, loc := h.postFiles("/reports/"+rid+"/photos", map[string]string{}, map[string][]byte{"a.jpg": jpg})
	t.Logf("POST photo to deleted report %d %s %s", st, loc, regexp.MustCompile(`(?s)<main.*</main>`).FindString(body))
	require.Equal(t, 409, st, "a deleted report is the volunteer's situation, not a server fault (the household forms answer 409)")
	require.Contains(t, body, "vừa bị xóa")
}
