package main

import "testing"

// The scenario runs end to end (it fails if the three replicas differ).
func TestScenario(t *testing.T) {
	for _, l := range []string{"vi", "en"} {
		lang = l
		if err := run(false); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
	}
}
