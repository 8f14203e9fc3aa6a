package i18n

import (
	"bytes"
	"slices"
	"sync"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
)

// A collate.Collator keeps buffers between calls, so it is not safe for
// concurrent use; the pool gives each sort its own.
var collators = sync.Pool{New: func() any {
	// Numeric: "Khóm 9" before "Khóm 10", as people count hamlets.
	return collate.New(language.Vietnamese, collate.Numeric)
}}

// Compare orders two strings as a Vietnamese reader does: by the
// Vietnamese alphabet (a ă â b c d đ e ê … o ô ơ … u ư …), so "Ngô" comes
// before "Nguyễn" and "Đ…" right after "D…", numbers by their value.
// Byte order gets both wrong.
func Compare(a, b string) int {
	c := collators.Get().(*collate.Collator)
	defer collators.Put(c)
	return c.CompareString(a, b)
}

// Sort sorts names in Vietnamese order.
func Sort(names []string) {
	SortBy(names, func(s string) string { return s })
}

// SortBy sorts s stably in the Vietnamese order of key(s[i]), each key
// computed once.
func SortBy[T any](s []T, key func(T) string) {
	SortByKeys(s, func(v T) []string { return []string{key(v)} })
}

// SortByKeys sorts s stably by several keys in turn (a team's commune,
// then its name), each in Vietnamese order.
func SortByKeys[T any](s []T, keys func(T) []string) {
	if len(s) < 2 {
		return
	}
	c := collators.Get().(*collate.Collator)
	defer collators.Put(c)
	var buf collate.Buffer
	type item struct {
		v    T
		keys [][]byte
	}
	items := make([]item, len(s))
	for i, v := range s {
		ks := keys(v)
		items[i].v = v
		items[i].keys = make([][]byte, len(ks))
		for j, k := range ks {
			// KeyFromString's result lives in buf until Reset: copy it.
			items[i].keys[j] = slices.Clone(c.KeyFromString(&buf, k))
		}
		buf.Reset()
	}
	slices.SortStableFunc(items, func(a, b item) int {
		for j := range min(len(a.keys), len(b.keys)) {
			if c := bytes.Compare(a.keys[j], b.keys[j]); c != 0 {
				return c
			}
		}
		return len(a.keys) - len(b.keys)
	})
	for i := range items {
		s[i] = items[i].v
	}
}

// Key is s's sort key in Vietnamese order: bytes.Compare of two keys
// orders them as Compare orders the strings. An index that sorts the same
// names again and again (the volunteer's app) computes each key once.
func Key(s string) []byte {
	c := collators.Get().(*collate.Collator)
	defer collators.Put(c)
	var buf collate.Buffer
	return slices.Clone(c.KeyFromString(&buf, s))
}
