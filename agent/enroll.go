package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// Version is the agent's version, sent in Hello and enroll.
const Version = "0.1.0"

// ClientName names this build for the server's logs.
func ClientName() string {
	return fmt.Sprintf("hamlet-agent/%s %s/%s", Version, runtime.GOOS, runtime.GOARCH)
}

// NormalizeServerURL checks a server address typed by a volunteer: http or
// https (https assumed when the scheme is missing), a host, no query.
func NormalizeServerURL(s string) (*url.URL, error) {
	s = strings.TrimSpace(s)
	if s != "" && !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		if err == nil {
			err = errors.New("want http://host[:port] or https://host[:port]")
		}
		return nil, &ConnectError{URL: s, NotHamlet: true, Err: err}
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// parseEnrollResponse reads the server's answer, refusing anything that is
// not a well-formed enrollment (it is external input).
func parseEnrollResponse(body []byte) (*syncproto.EnrollResponse, error) {
	var resp syncproto.EnrollResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, err
	}
	if !usableToken(resp.Token) {
		return nil, errors.New("enroll response without a usable token")
	}
	if len(resp.Scope) > 4096 {
		return nil, errors.New("enroll response with an oversized scope")
	}
	return &resp, nil
}

// usableToken: 1 to 4,096 visible ASCII characters, so the token survives
// the token file (WriteToken, ReadToken trims spaces) and is a valid value
// of the Authorization header. Servers issue "hmt_" + base64url.
func usableToken(t string) bool {
	if t == "" || len(t) > 4096 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 0x21 || t[i] > 0x7e {
			return false
		}
	}
	return true
}

// parseErrorBody turns a JSON error answer into a *ServerError (nil if the
// body is not one: then the server is not a Hamlet server).
func parseErrorBody(status int, body []byte) *ServerError {
	var eb syncproto.ErrorBody
	if json.Unmarshal(body, &eb) != nil || eb.Error.Code == "" {
		return nil
	}
	return &ServerError{Status: status, Code: eb.Error.Code, Msg: eb.Error.Message, Hint: eb.Error.Hint, HintEN: eb.Error.HintEN, DeviceID: eb.Error.DeviceID}
}

// LabelError: the name given for this laptop (--label, the app's form) is
// not one the server takes; the code is not used.
type LabelError struct{}

func (e *LabelError) Error() string {
	return "agent: the laptop's name is over 100 characters or holds a control character"
}

func (e *LabelError) Message(lang string) string {
	return pick(lang,
		"Tên máy (--label) dài quá 100 ký tự hoặc có ký tự điều khiển (như tab, xuống dòng). Hãy đặt tên ngắn hơn, trên một dòng, rồi đăng ký lại; mã đăng ký chưa bị dùng.",
		"The laptop's name (--label) is over 100 characters or holds a control character (a tab, a line break). Give a shorter name on one line, then enroll again; the code is not used up.")
}

// CheckLabel checks a laptop's name as the server will (checkDeviceText):
// at most 100 characters, text without control characters.
func CheckLabel(label string) error {
	label = strings.TrimSpace(label)
	if utf8.RuneCountInString(label) > 100 || !utf8.ValidString(label) || strings.ContainsFunc(label, unicode.IsControl) {
		return &LabelError{}
	}
	return nil
}

// Enroll exchanges a one-time code for a device token and stores the
// enrollment (scope, member, server) in the replica. The caller stores the
// token (WriteToken).
func (r *Replica) Enroll(ctx context.Context, server, code, label string) (token string, e *Enrollment, err error) {
	return r.EnrollWith(ctx, server, code, label, nil)
}

// EnrollWith is Enroll that hands the token to save before it stores the
// enrollment, so that the enrollment stored is the one commit point: a
// process killed before it is not enrolled, and enroll run again with the
// same code gets a token for the same device (the server allows it while
// the code is valid); killed after it, it is enrolled.
func (r *Replica) EnrollWith(ctx context.Context, server, code, label string, save func(token string) error) (token string, e *Enrollment, err error) {
	defer func() { // nothing to send yet: the message says so (ConnectError)
		var ce *ConnectError
		if errors.As(err, &ce) {
			ce.Enrolling = true
		}
	}()
	if err := r.writable(); err != nil { // damage.go: repair first
		return "", nil, err
	}
	if err := CheckLabel(label); err != nil {
		return "", nil, err
	}
	code, err = CleanCode(code) // a Telex/VNI code is not sent: it would count as a wrong try
	if err != nil {
		return "", nil, err
	}
	u, err := NormalizeServerURL(server)
	if err != nil {
		return "", nil, err
	}
	held, err := r.heldServer(ctx)
	if err != nil {
		return "", nil, err
	}
	body, _ := json.Marshal(syncproto.EnrollRequest{Code: code, ReplicaID: r.id.String(), Label: label, Client: ClientName(), ServerID: held})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String()+"/v1/enroll", bytes.NewReader(body))
	if err != nil {
		return "", nil, &ConnectError{URL: u.String(), NotHamlet: true, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := noRedirects(r.httpc).Do(req) // a portal's redirect is told, and gets no code (portal.go)
	if err != nil {
		return "", nil, &ConnectError{URL: u.String(), Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", nil, &ConnectError{URL: u.String(), Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		if se := parseErrorBody(resp.StatusCode, data); se != nil {
			if resp.StatusCode == http.StatusTooManyRequests && (se.Code == syncproto.CodeTooManyAttempts || se.Code == syncproto.CodeCodeInvalid || se.Code == "") {
				return "", nil, throttled(resp, se) // code_invalid: a server before too_many_attempts
			}
			if se.Code == syncproto.CodeOtherServer {
				prev, _ := r.Enrollment(ctx)
				oe := &OtherServerError{}
				if prev != nil {
					oe.Held = prev.ServerID
				}
				return "", nil, oe
			}
			if se.Code == syncproto.CodeReplicaActive {
				prev, _ := r.Enrollment(ctx)
				return "", nil, alreadyEnrolled(se, prev)
			}
			return "", nil, se
		}
		if resp.StatusCode == http.StatusTooManyRequests {
			return "", nil, &ServerError{Status: resp.StatusCode, Code: syncproto.CodeBusy, Msg: "too many attempts"}
		}
		return "", nil, answerError(u.String(), req.URL, resp, data, "")
	}
	er, err := parseEnrollResponse(data)
	if err != nil {
		if isHTML(resp.Header.Get("Content-Type"), data) { // a network's sign-in page
			return "", nil, answerError(u.String(), req.URL, resp, data, "")
		}
		return "", nil, &ConnectError{URL: u.String(), NotHamlet: true, Err: err}
	}
	if err := r.sameServer(ctx, er.ServerID); err != nil {
		return "", nil, err
	}
	e = &Enrollment{Server: u.String(), DeviceID: er.DeviceID, MemberID: er.MemberID, TeamID: er.TeamID, TeamName: er.TeamName,
		Scope: er.Scope, ServerID: er.ServerID, Schema: er.Schema, Label: strings.TrimSpace(label)}
	if save != nil {
		if err := save(er.Token); err != nil {
			return "", nil, err
		}
	}
	// A device enrolled again (revoked, then a new code) may hold rows of
	// hamlets its team lost meanwhile, yet never had a Welcome note what it
	// holds: note the old enrollment's hamlets before the new one replaces
	// them, so the next sync drops the lost ones (rescope). A replica that
	// holds nothing (it never synced nor wrote, and may have moved to
	// another server) forgets any hamlets noted before: its next sync is a
	// first one, not a change of its team's hamlets to report.
	n, err := r.scopeNotes(ctx)
	if err != nil {
		return "", nil, err
	}
	holds, err := r.holdsDataOf(n)
	if err != nil {
		return "", nil, err
	}
	if holds {
		if err := r.noteScope(ctx, n); err != nil {
			return "", nil, err
		}
	}
	t, err := r.begin(ctx)
	if err != nil {
		return "", nil, err
	}
	defer t.rollback()
	if !holds {
		if err := t.exec(`DELETE FROM agent_meta WHERE key IN (?, ?, ?)`, metaScopeHeld, metaScopeWritten, metaScopeStray); err != nil {
			return "", nil, err
		}
	}
	if holds {
		// The hamlets the laptop covered keep their names (Former): one
		// its team lost meanwhile is dropped by the next sync, which
		// tells it (noted above), by the name the volunteer knows, not
		// by the code alone. An enrollment unreadable names none.
		if prev, perr := r.enrollmentIn(ctx, t); perr == nil && prev != nil {
			codes := make([]string, len(e.Scope))
			for i, h := range e.Scope {
				codes[i] = h.Code
			}
			e.Former = formerAfter(prev.Scope, prev.Former, codes)
		}
	}
	b, err := json.Marshal(e)
	if err != nil {
		return "", nil, err
	}
	if err := t.setMeta("enrollment", string(b)); err != nil {
		return "", nil, err
	}
	if err := t.exec(`DELETE FROM agent_meta WHERE key = ?`, metaEnrollmentLeftOut); err != nil {
		return "", nil, err
	}
	// A fork found before and not yet carried out asks again as the new
	// device, with a new id: the server may have given the id it fixed to
	// a device forked from the old one (its answer lost), and refuses it
	// to any other device (replica_active, at every sync: issue 17, wide
	// seed 1502709). No change carries that id yet (restamp clears
	// fork_due in the transaction that renumbers).
	if due, err := t.r.meta(t.ctx, t.tx, metaForkDue); err != nil {
		return "", nil, err
	} else if due != "" {
		if err := t.setMeta(metaForkReplica, t.r.newID().String()); err != nil {
			return "", nil, err
		}
	}
	// A new token: the last sync's refusal (token_revoked, say) is over.
	if err := t.setMeta("last_sync_error", ""); err != nil {
		return "", nil, err
	}
	if err := t.commit(); err != nil {
		return "", nil, err
	}
	return er.Token, e, nil
}

// WriteToken stores the device token in a file only the user can read.
func WriteToken(path, token string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(token+"\n"), 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadToken reads the device token; a missing file is *NotEnrolledError.
func ReadToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", &NotEnrolledError{}
	}
	if err != nil {
		return "", err
	}
	t := strings.TrimSpace(string(b))
	if t == "" {
		return "", &NotEnrolledError{}
	}
	return t, nil
}

// sameServer refuses an enrollment with another server (deployment) than
// the one whose data this replica holds (see OtherServerError). A replica
// that never synced nor wrote may move. A server since issue 14 refuses
// it itself, before it uses the code up (heldServer); this check is for an
// older one, which did use it.
func (r *Replica) sameServer(ctx context.Context, serverID string) error {
	held, err := r.heldServer(ctx)
	if err != nil || held == "" || serverID == "" || held == serverID {
		return err
	}
	return &OtherServerError{Held: held, New: serverID, Used: true}
}

// heldServer is the id of the server whose data this replica holds: the
// one it enrolled with, once it synced or wrote; "" otherwise.
func (r *Replica) heldServer(ctx context.Context) (string, error) {
	prev, err := r.Enrollment(ctx)
	if err != nil || prev == nil || prev.ServerID == "" {
		return "", err
	}
	if holds, err := r.holdsData(ctx); err != nil || !holds {
		return "", err
	}
	return prev.ServerID, nil
}

// holdsData says whether this replica holds anything of a server: it
// pulled (a cursor), wrote (a sequence) or began a clone.
func (r *Replica) holdsData(ctx context.Context) (bool, error) {
	n, err := r.scopeNotes(ctx)
	if err != nil {
		return false, err
	}
	return r.holdsDataOf(n)
}

// holdsDataOf is holdsData of the notes read (scopeNotes).
func (r *Replica) holdsDataOf(n *scopeNotes) (bool, error) {
	cursor, err := r.noteInt("cursor", n.cursor)
	if err != nil {
		return false, err
	}
	seq, err := r.noteInt("seq", n.seq)
	if err != nil {
		return false, err
	}
	return cursor != 0 || seq != 0 || r.cloneStartedOf(n.cloneHead), nil
}

// scopeNotes are what a Welcome's scope is checked against: whether the
// replica holds data (holdsData), the hamlets it holds and may have
// written in, and the enrollment. One statement reads them all, at one
// moment (they were up to seven reads, each taking SQLite's read lock,
// at every sync).
type scopeNotes struct {
	cursor, seq, cloneHead, held, written, enrollment string
}

func (r *Replica) scopeNotes(ctx context.Context) (*scopeNotes, error) {
	v, err := r.metas(ctx, r.db, "cursor", "seq", "clone_head", metaScopeHeld, metaScopeWritten, "enrollment")
	if err != nil {
		return nil, fmt.Errorf("reading the hamlets this replica holds: %w", err)
	}
	return &scopeNotes{cursor: v[0], seq: v[1], cloneHead: v[2], held: v[3], written: v[4], enrollment: v[5]}, nil
}
