package agent

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseEnrollResponse feeds the enrollment answer parser arbitrary
// bytes (the body comes from whatever answers at the URL a volunteer
// typed). It must never panic, and whatever it accepts must be usable: a
// token that survives the token file and is a valid Authorization header
// value, a bounded scope, and the same answer when parsed again.
//
//	go test ./agent -run '^$' -fuzz FuzzParseEnrollResponse -fuzztime 30s
func FuzzParseEnrollResponse(f *testing.F) {
	for _, s := range []string{
		`{"device_id":"d1","token":"hmt_AAAA","member_id":"m1","team_id":"t1","team_name":"Tổ CNS ấp 1","scope":[{"code":"32002-01","name":"Ấp 1"}],"server_id":"6a8f0d5e-3c1b-4b8e-9a57-0d3f5e1c2b4a","schema":1}`,
		`{"token":""}`,
		`{"token":"hmt_x\nInjected: 1"}`,
		`{"token":" hmt_x "}`,
		`{"token":"hmt_x","scope":null}`,
		`{"token":"hmt_x","scope":[{}]}`,
		`{"token":1}`,
		`{"error":{"code":"code_expired","message":"expired"}}`,
		`[]`,
		`null`,
		`<html>not a hamlet server</html>`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := parseEnrollResponse(body)
		if err != nil {
			if r != nil {
				t.Fatalf("error %v with a response", err)
			}
			return
		}
		if !usableToken(r.Token) || strings.TrimSpace(r.Token+"\n") != r.Token {
			t.Fatalf("accepted an unusable token %q", r.Token)
		}
		if len(r.Scope) > 4096 {
			t.Fatalf("accepted a scope of %d hamlets", len(r.Scope))
		}
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		r2, err := parseEnrollResponse(again)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", again, err)
		}
		if r2.Token != r.Token || len(r2.Scope) != len(r.Scope) || r2.DeviceID != r.DeviceID || r2.Schema != r.Schema {
			t.Fatalf("parse is not stable: %+v then %+v", r, r2)
		}
	})
}
