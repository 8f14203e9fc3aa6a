package agent

import (
	"context"
	"errors"
	"fmt"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// RevokedError is a sync the server refused because this device's token was
// revoked (token_revoked), or, with Unknown, because the server does not
// know the token at all (unauthorized: its data was wiped, or it was
// reinstalled) although this laptop was enrolled with it. Revocation never touches the replica: rows,
// outbox, conflicts and refusals stay as they were, and enrolling this same
// replica again with a new code (hamlet-agent enroll) pushes the unsynced
// changes with their original origin and author.
type RevokedError struct {
	Err       error // the server's answer (*ServerError)
	Unsynced  int   // local changes (field writes) the server has not acknowledged
	Records   int   // the records (rows) those changes belong to
	Rejected  int   // refused changes kept in 'rejected'
	Conflicts int   // conflicts kept in 'conflicts'
	// Photos are the photos of this laptop's reports that the server has
	// not confirmed: on this laptop only.
	Photos  int
	Server  string
	Unknown bool
}

func (e *RevokedError) Error() string {
	if e.Unknown {
		return fmt.Sprintf("agent: the server does not know this device any more; %d unsynced changes are kept: %v", e.Unsynced, e.Err)
	}
	return fmt.Sprintf("agent: this device's token was revoked; %d unsynced changes are kept: %v", e.Unsynced, e.Err)
}

func (e *RevokedError) Unwrap() error { return e.Err }

// nouns is n English nouns: "1 photo", "2 photos".
func nouns(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func (e *RevokedError) Message(lang string) string { return e.message(lang, false) }

// AppMessage is Message for the volunteer's app, which offers enrolling
// again as a button, not a command (AppMessager).
func (e *RevokedError) AppMessage(lang string) string { return e.message(lang, true) }

func (e *RevokedError) message(lang string, app bool) string {
	server := e.Server
	if server == "" {
		server = pick(lang, "<địa chỉ máy chủ>", "<server address>")
	}
	kept := pick(lang, fmt.Sprintf("%d bản ghi có thay đổi chưa gửi (%d thay đổi)", e.Records, e.Unsynced),
		fmt.Sprintf("%s with unsynced changes (%s)", nouns(e.Records, "record"), nouns(e.Unsynced, "change")))
	if e.Rejected+e.Conflicts > 0 {
		kept += pick(lang, fmt.Sprintf(", %d thay đổi bị từ chối và %d xung đột", e.Rejected, e.Conflicts),
			fmt.Sprintf(", %s and %s", nouns(e.Rejected, "refused change"), nouns(e.Conflicts, "conflict")))
	}
	if e.Photos > 0 {
		kept += pick(lang, fmt.Sprintf(", %d ảnh chưa gửi (chỉ có trên máy này)", e.Photos),
			fmt.Sprintf(", %s not sent yet (on this laptop only)", nouns(e.Photos, "photo")))
	}
	if e.Unknown {
		step := pick(lang, fmt.Sprintf("Khi có mã mới, chạy: hamlet-agent enroll --server %s --code <MÃ MỚI>.", server),
			fmt.Sprintf("With the new code, run: hamlet-agent enroll --server %s --code <NEW CODE>.", server))
		if app {
			step = pick(lang, "Khi có mã mới, bấm «Đăng ký lại bằng mã mới» bên dưới và nhập mã.", "With the new code, press «Enroll again with a new code» below and enter it.")
		}
		return pick(lang,
			fmt.Sprintf("Máy chủ không còn biết máy này nữa: hãy xin mã đăng ký mới (máy chủ có thể đã được cài lại, dữ liệu của nó đã bị xóa, hoặc mã truy cập trên máy này không còn đúng). "+
				"Mọi dữ liệu trên máy vẫn được giữ nguyên, gồm %s; đừng xóa thư mục dữ liệu. %s", kept, step),
			fmt.Sprintf("The server does not know this laptop any more: ask for a new code (the server may have been reinstalled, its data wiped, or the access token on this laptop is no longer right). "+
				"All data on this laptop is kept, including %s; do not delete the data directory. %s", kept, step))
	}
	if app {
		return pick(lang,
			fmt.Sprintf("Quyền đồng bộ của máy này đã bị thu hồi (cán bộ CNTT đã thu hồi mã truy cập của máy). "+
				"Không mất gì: mọi dữ liệu trên máy vẫn được giữ nguyên, gồm %s. "+
				"Việc cần làm: xin cán bộ CNTT một mã đăng ký mới, rồi bấm «Đăng ký lại bằng mã mới» bên dưới và nhập mã: các thay đổi chưa gửi sẽ được gửi đi, vẫn mang tên người đã ghi. "+
				"Đừng xóa thư mục dữ liệu và đừng cài lại Hamlet.", kept),
			fmt.Sprintf("This device's sync access was revoked (IT staff revoked its token). "+
				"Nothing is lost: all data on this laptop is kept, including %s. "+
				"What to do: ask IT staff for a new enrollment code, then press «Enroll again with a new code» below and enter it: the unsynced changes are sent, still under the name of whoever recorded them. "+
				"Do not delete the data directory or reinstall Hamlet.", kept))
	}
	return pick(lang,
		fmt.Sprintf("Quyền đồng bộ của máy này đã bị thu hồi (cán bộ CNTT đã thu hồi mã truy cập của máy). "+
			"Không mất gì: mọi dữ liệu trên máy vẫn được giữ nguyên, gồm %s. "+
			"Việc cần làm: 1) xin cán bộ CNTT một mã đăng ký mới; "+
			"2) chạy: hamlet-agent enroll --server %s --code <MÃ MỚI>; "+
			"3) chạy: hamlet-agent sync — các thay đổi chưa gửi sẽ được gửi đi, vẫn mang tên người đã ghi. "+
			"Đừng xóa thư mục dữ liệu và đừng cài lại Hamlet.", kept, server),
		fmt.Sprintf("This device's sync access was revoked (IT staff revoked its token). "+
			"Nothing is lost: all data on this laptop is kept, including %s. "+
			"What to do: 1) ask IT staff for a new enrollment code; "+
			"2) run: hamlet-agent enroll --server %s --code <NEW CODE>; "+
			"3) run: hamlet-agent sync — the unsynced changes are sent, still under the name of whoever recorded them. "+
			"Do not delete the data directory or reinstall Hamlet.", kept, server))
}

// explainRevoked turns a token_revoked refusal, or an unauthorized one (the
// laptop holds a token, so the server has forgotten it), into a
// *RevokedError that counts what the replica keeps; any other error is
// returned as it is.
func (r *Replica) explainRevoked(ctx context.Context, server string, err error) error {
	var se *ServerError
	if hs := httpsRefusal(err); hs != nil && hs.Code == syncproto.CodeTokenRevoked {
		// Revoked, as the server said at the https:// address it moved
		// to (movedToHTTPS): enrolling again is done there.
		var ce *ConnectError
		errors.As(err, &ce)
		err, server = hs, ce.HTTPS
	}
	if err == nil || !errors.As(err, &se) || (se.Code != syncproto.CodeTokenRevoked && se.Code != syncproto.CodeUnauthorized) {
		return err
	}
	if se.Code == syncproto.CodeUnauthorized {
		if en, eerr := r.Enrollment(context.WithoutCancel(ctx)); eerr != nil || en == nil {
			return err // never enrolled: "not enrolled" is the truth
		}
	}
	re := &RevokedError{Err: err, Server: server, Unknown: se.Code == syncproto.CodeUnauthorized}
	ctx = context.WithoutCancel(ctx)
	for _, c := range []struct {
		q    string
		args []any
		dst  *int
	}{
		{`SELECT (SELECT count(*) FROM outbox WHERE state IN (?, ?)) + (SELECT coalesce(sum(n), 0) FROM outbox_rows WHERE state IN (?, ?))`,
			[]any{outboxPending, outboxUnacked, outboxPending, outboxUnacked}, &re.Unsynced},
		{`SELECT count(*) FROM (SELECT row_id FROM outbox WHERE state IN (?, ?) UNION SELECT row_id FROM outbox_rows WHERE state IN (?, ?))`,
			[]any{outboxPending, outboxUnacked, outboxPending, outboxUnacked}, &re.Records},
		{`SELECT count(*) FROM outbox WHERE state = ?`, []any{outboxRejected}, &re.Rejected},
		{`SELECT count(*) FROM conflicts WHERE restored_at IS NULL`, nil, &re.Conflicts},
	} {
		if qerr := r.db.QueryRowContext(ctx, c.q, c.args...).Scan(c.dst); qerr != nil {
			return err // the counts are a courtesy; the refusal is what matters
		}
	}
	if n, perr := r.PhotosUnsent(ctx); perr == nil {
		re.Photos = n
	}
	return re
}
