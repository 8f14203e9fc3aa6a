package app_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// A phone is accepted by the form written as volunteers write it (dots,
// dashes, +84) and stored as 0xxxxxxxxx; searching with the number written
// the same way must find the household.
func TestSearchByPhoneAsTyped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	h.addHousehold(hamlet1, "Nguyễn Văn An", "0912.345.678") // accepted, stored 0912345678
	for _, q := range []string{"0912345678", "0912 345 678", "0912.345.678", "0912-345-678", "+84 912 345 678", "+84912345678"} {
		status, body := h.get("/households?q=" + urlq(q))
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, []string{"Nguyễn Văn An"}, heads(body), "q=%q", q)
	}
}

// A name written with Ð (U+00D0), as some fonts and converted
// spreadsheets write Đ, was not found by "dinh", "Đinh" or "duc".
func TestSearchEthAsD(t *testing.T) {
	t.Parallel()
	h := newHarness(t, true)
	h.addHousehold(hamlet1, "\u00d0inh Văn \u00d0ức", "")
	for _, q := range []string{"dinh", "Đinh", "duc"} {
		_, body := h.get("/households?q=" + urlq(q))
		require.Len(t, heads(body), 1, "q=%q", q)
	}
}
