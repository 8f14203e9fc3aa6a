package app_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// Every page renders in both languages, Vietnamese by default and
// English after the toggle, with no key of the catalog left showing.
func TestEveryPageRenders(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	id := h.addHousehold(hamlet1, "Nguyễn Văn An", "0912345678")
	status, body, _ := h.post("/households/"+id+"/visit", url.Values{"visited_on": {"03/11/2026"}, "skill": {"vneid_install"}, "outcome-vneid_install": {"independent"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	status, body, _ = h.post("/reports/new?household="+id, url.Values{"category": {"dien_chieu_sang"}, "description": {"Đèn đường hỏng"}, "consent_disclose": {"no"}})
	require.Equal(t, http.StatusSeeOther, status, body)
	paths := []string{"/", "/?list=skill&skill=ehealth_record", "/households", "/households?q=nguyen", "/households/new", "/households/" + id,
		"/households/" + id + "/edit", "/households/" + id + "/visit", "/reports", "/reports/new", "/reports/new?household=" + id, "/sync", "/enroll"}
	for _, lang := range []string{"vi", "en"} {
		if lang == "en" {
			status, _, loc := h.post("/lang", url.Values{"to": {"en"}, "back": {"/households"}})
			require.Equal(t, http.StatusSeeOther, status)
			require.Equal(t, "/households", loc)
		}
		for _, p := range paths {
			status, body := h.get(p)
			require.Equal(t, http.StatusOK, status, "%s %s: %s", lang, p, body)
			require.Contains(t, body, `<html lang="`+lang+`">`, p)
			require.NotRegexp(t, `\b(title|col|label|hint|err|bar|done|who)_[a-z_]+\b`, stripTags(body), "%s %s shows a catalog key", lang, p)
			if lang == "en" {
				text := stripTags(body)
				for _, allowed := range []string{"Nguyễn Văn An", "Đèn đường hỏng", "Tổ CNSCĐ Khóm 1", "Khóm Tân Thành", "Tiếng Việt", "Khóm 1", "máy thử", "“Nguyễn”"} {
					text = strings.ReplaceAll(text, allowed, "")
				}
				require.False(t, i18n.HasVietnamese(text), "%s in English holds Vietnamese: %s", p, vietnamese(text))
			}
		}
	}
}

// stripTags keeps a page's text (roughly: enough to look for words).
func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// vietnamese picks the words of s that hold a Vietnamese letter.
func vietnamese(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		if i18n.HasVietnamese(w) {
			out = append(out, w)
		}
	}
	return out
}
