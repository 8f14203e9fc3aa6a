// Package i18n holds what every Vietnamese-first text of Hamlet shares, so
// the CLIs, the exports and the dashboard say the same thing the same way:
// the glossary (one term per concept, official names in full), the
// Vietnamese order of names (golang.org/x/text/collate), and how times,
// dates, durations, sizes and numbers are written and read in Vietnam.
//
// It is pure: no I/O, no wall clock (times are given), so the dashboard
// and the exports can import it as freely as the CLIs. It must never import
// a package of the module but workcal (internal/archtest).
package i18n

import "strings"

// Lang normalises a language setting ("en", "en_US.UTF-8", "vi", "") to
// "en" or "vi"; Vietnamese unless English is asked for.
func Lang(s string) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(s)), "en") {
		return "en"
	}
	return "vi"
}

// IsEN reports whether lang asks for English.
func IsEN(lang string) bool { return Lang(lang) == "en" }

// Pick returns vi or en by lang.
func Pick(lang, vi, en string) string {
	if IsEN(lang) {
		return en
	}
	return vi
}

// Text is one text in both languages.
type Text struct{ VI, EN string }

// In returns the text in lang.
func (t Text) In(lang string) string { return Pick(lang, t.VI, t.EN) }
