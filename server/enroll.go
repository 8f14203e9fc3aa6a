package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// codeAlphabet has no 0/O, 1/I: 32 symbols a person reads and types
// without doubt. Eight of them make 40 bits, typed as XXXX-XXXX.
const codeAlphabet = syncproto.EnrollCodeAlphabet

func newCode() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make enrollment code: %w", err)
	}
	out := make([]byte, 0, 9)
	for i, x := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, codeAlphabet[x&31])
	}
	return string(out), nil
}

// normalizeCode accepts what people type or paste: any case, spaces,
// dashes, quotes, invisible characters (syncproto.CleanEnrollCode).
func normalizeCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range syncproto.CleanEnrollCode(s) {
		switch {
		case r < utf8.RuneSelf && strings.IndexByte(codeAlphabet, byte(r)) >= 0:
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return b.String(), b.Len() == 8
}

func hashCode(normalized string) []byte { return hashToken("enroll:" + normalized) }

func newToken() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("make device token: %w", err)
	}
	return "hmt_" + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	addr := ClientAddr(r)
	key := addrKey(addr)
	now := s.now()
	if wait := s.enrollTh.wait(key, now); wait > 0 {
		s.log.Warn("enrollment refused: too many wrong codes", LogRemote, addr)
		writeAPIError(w, errTooManyCodes(wait))
		return
	}
	var req syncproto.EnrollRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 16<<10))
	if err := dec.Decode(&req); err != nil {
		WriteHTTPError(w, syncproto.Errorf(syncproto.CodeBadFrame, "the body must be JSON: {code, replica_id, label, client}"))
		return
	}
	replica, err := uuid.Parse(req.ReplicaID)
	if err != nil || replica == uuid.Nil {
		WriteHTTPError(w, syncproto.Errorf(syncproto.CodeInvalidValue, "replica_id must be a UUID"))
		return
	}
	label := strings.TrimSpace(req.Label)
	if label == "" {
		label = "laptop"
	}
	if err := checkDeviceText(label, req.Client); err != nil {
		WriteHTTPError(w, err)
		return
	}
	code, ok := normalizeCode(req.Code)
	if !ok {
		s.enrollTh.fail(key, now)
		s.log.Info("enrollment refused", LogRemote, addr, LogCode, string(syncproto.CodeCodeInvalid))
		WriteHTTPError(w, syncproto.Errorf(syncproto.CodeCodeInvalid, "an enrollment code is 8 letters and digits, like ABCD-EF23"))
		return
	}
	if err := s.checkEnrollServer(req); err != nil {
		s.log.Info("enrollment refused", LogRemote, addr, LogCode, string(syncproto.CodeOtherServer), LogReplica, replica.String())
		WriteHTTPError(w, err)
		return
	}
	tok, err := newToken()
	if err != nil {
		WriteHTTPError(w, err)
		return
	}
	d := Device{ID: s.cfg.NewID().String(), Replica: replica, Label: label, Client: req.Client, TokenHash: hashToken(tok), Created: now}
	en, err := Enroll(r.Context(), s.store, hashCode(code), now, d)
	if err != nil {
		pe := protoError(err)
		if pe.Code == syncproto.CodeCodeInvalid {
			s.enrollTh.fail(key, now)
		}
		if pe.Code == syncproto.CodeInternal {
			s.log.Error("enrollment failed", LogErr, err)
		} else {
			s.log.Info("enrollment refused", LogRemote, addr, LogCode, string(pe.Code))
		}
		WriteHTTPError(w, err)
		return
	}
	if en.Again {
		s.tokenReplaced(en.Device.ID) // fork_http.go
	}
	s.log.Info("device enrolled", LogDevice, en.Device.ID, LogMember, en.Member.ID, LogTeam, en.Team.ID, LogReplica, replica.String(), "again", en.Again)
	WriteJSON(w, http.StatusOK, s.enrollResponse(r.Context(), en, tok))
}

// enrollResponse is the answer to an enrollment (or a fork) that made en
// with token tok.
func (s *Server) enrollResponse(ctx context.Context, en Enrollment, tok string) syncproto.EnrollResponse {
	resp := syncproto.EnrollResponse{DeviceID: en.Device.ID, Token: tok, MemberID: en.Member.ID, TeamID: en.Team.ID, TeamName: en.Team.Name,
		ServerID: s.id.String(), Schema: schema.Version, Scope: s.scopeUnits(ctx, en.Team)}
	return resp
}

// scopeUnits are a team's hamlets with their names.
func (s *Server) scopeUnits(ctx context.Context, team Team) []syncproto.ScopeUnit {
	// Only the team's hamlets, by code: every welcome and roster asks,
	// and reading the whole unit tree (every hamlet and every commune's
	// predecessors) for a few names was most of what it cost.
	names, err := s.store.UnitNames(ctx, team.Hamlets)
	if err != nil {
		names = nil // unnamed, as before when the units could not be read
	}
	if sharedNames(team.Hamlets, names) {
		names = s.namesApart(ctx, team.Hamlets, names)
	}
	out := []syncproto.ScopeUnit{}
	for _, h := range team.Hamlets {
		out = append(out, syncproto.ScopeUnit{Code: h, Name: names[h]})
	}
	return out
}

// sharedNames reports whether two of hamlets have the same name (compared
// as schema.UnitNames compares them): after the 2025 merger a ward holds
// several "Khóm 1", and a team may cover two.
func sharedNames(hamlets []string, names map[string]string) bool {
	seen := make(map[string]bool, len(hamlets))
	for _, h := range hamlets {
		n := strings.ToLower(strings.TrimSpace(names[h]))
		if n == "" {
			continue
		}
		if seen[n] {
			return true
		}
		seen[n] = true
	}
	return false
}

// namesApart names a team's hamlets when two have the same name: as the
// dashboard names them (schema.UnitNames: "Khóm 1 (Phường 4 cũ)"), from
// the whole unit tree, which only such a team reads; a name still shared
// (two hamlets under different communes, or the tree unreadable) gets its
// code, as schema.UnitNames writes it. The laptop lists the hamlets and
// reads a sheet's hamlet column by these names: two alike, a volunteer
// could not tell which is which, and an import filed "Khóm 1" in either.
func (s *Server) namesApart(ctx context.Context, hamlets []string, names map[string]string) map[string]string {
	out := make(map[string]string, len(names))
	for c, n := range names {
		out[c] = n
	}
	if units, err := s.store.Units(ctx, "", ""); err == nil {
		display := schema.UnitNames(units, "vi")
		for _, h := range hamlets {
			if d := display[h]; d != "" {
				out[h] = d
			}
		}
	}
	count := map[string]int{}
	for _, h := range hamlets {
		count[strings.ToLower(strings.TrimSpace(out[h]))]++
	}
	for _, h := range hamlets {
		if n := out[h]; n != "" && count[strings.ToLower(strings.TrimSpace(n))] > 1 {
			out[h] = fmt.Sprintf("%s (mã %s)", n, h)
		}
	}
	return out
}

var _ = time.Second

// checkDeviceText checks a device's label and client as an enrolment or a
// fork gives them. They are stored as text and shown in the operator's
// terminal (device list) and the dashboard, so a NUL (which PostgreSQL
// refuses), bytes that are not UTF-8 or a control character (a terminal's
// escape) are refused here, on every store alike.
func checkDeviceText(label, client string) error {
	ok := func(s string) bool {
		return utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
	}
	if utf8.RuneCountInString(label) > 100 || utf8.RuneCountInString(client) > 200 || !ok(label) || !ok(client) {
		return syncproto.Errorf(syncproto.CodeInvalidValue, "label must be at most 100 characters and client at most 200, as text without control characters")
	}
	return nil
}
