package server

import "testing"

// The idle-pull answer covers only (base, head]: after the commit feed
// restarts (a PostgreSQL listener reconnected) cursors below the new base
// go to the store, and a cursor above the head the hub heard of too.
func TestHubUnchangedAfterRestart(t *testing.T) {
	h := newHub(0)
	if _, _, ok := h.unchanged(0, []string{"a"}); ok {
		t.Fatal("answered before tracking started")
	}
	h.start(10)
	h.logged(CommitEvent{Scopes: map[string]uint64{"a": 12}, Head: 12})
	if head, _, ok := h.unchanged(10, []string{"b"}); !ok || head != 12 {
		t.Fatalf("b unchanged since 10: got %d %v", head, ok)
	}
	if _, _, ok := h.unchanged(10, []string{"a", "b"}); ok {
		t.Fatal("a changed at 12")
	}
	if _, _, ok := h.unchanged(13, []string{"b"}); ok {
		t.Fatal("a cursor beyond the head heard of must read the store")
	}
	h.restart(20) // commits 13..20 may not have been heard of
	if _, _, ok := h.unchanged(12, []string{"b"}); ok {
		t.Fatal("a cursor below the restart's base must read the store")
	}
	if head, _, ok := h.unchanged(20, []string{"a"}); !ok || head != 20 {
		t.Fatalf("nothing heard of above 20: got %d %v", head, ok)
	}
	h.logged(CommitEvent{Scopes: map[string]uint64{"b": 18}, Head: 18}) // a late duplicate below the base changes nothing
	if head, _, ok := h.unchanged(20, []string{"b"}); !ok || head != 20 {
		t.Fatalf("got %d %v", head, ok)
	}
}
