package agent

import (
	"encoding/json"
	"github.com/hamlet-vn/hamlet/schema"
	"testing"
	"unicode/utf8"
)

// FuzzParseRoster feeds the roster parser arbitrary bytes (the body comes
// from whatever answers at the server's address). It must never panic,
// and what it accepts is bounded, names a replica, and stores and reads
// back as it was (Writers keeps it as JSON).
//
//	go test ./agent -run '^$' -fuzz FuzzParseRoster -fuzztime 30s
func FuzzParseRoster(f *testing.F) {
	for _, s := range []string{
		`{"writers":[{"replica_id":"6a8f0d5e-3c1b-4b8e-9a57-0d3f5e1c2b4a","member_id":"m1","name":"Nguyễn Thị Lan"}]}`,
		`{"writers":[]}`,
		`{"writers":null}`,
		`{"writers":[{"name":"no replica"}]}`,
		`{"writers":[{"replica_id":1}]}`,
		`{"writers":[],"hamlets":[{"code":"32002-05","name":"Khóm 5"},{"code":"x","name":"bad"}]}`,
		`[]`, `null`, ``, `<html>`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ws, hamlets, err := parseRoster(data)
		if err != nil {
			return
		}
		for _, h := range hamlets {
			if schema.ValidateHamletCode(h.Code) != nil || len(h.Name) > 400 || !utf8.ValidString(h.Name) {
				t.Fatalf("accepted hamlet %+v", h)
			}
		}
		if len(ws) > 10000 {
			t.Fatalf("%d writers", len(ws))
		}
		for _, w := range ws {
			if w.Replica == "" || len(w.Name) > 400 {
				t.Fatalf("accepted %+v", w)
			}
		}
		b, err := json.Marshal(ws)
		if err != nil {
			t.Fatal(err)
		}
		var back []Writer
		if err := json.Unmarshal(b, &back); err != nil || len(back) != len(ws) {
			t.Fatalf("round trip: %v %d/%d", err, len(back), len(ws))
		}
	})
}
