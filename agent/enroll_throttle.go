package agent

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ThrottledError: the server refuses enrollments from this address for a
// while after too many wrong codes (HTTP 429): the code given may well be
// right. Wait is the server's Retry-After (0 when it sent none).
type ThrottledError struct {
	Wait time.Duration
	Err  error
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("agent: too many wrong enrollment codes from this address; retry after %v: %v", e.Wait, e.Err)
}

func (e *ThrottledError) Unwrap() error { return e.Err }

func (e *ThrottledError) Message(lang string) string {
	wait := pick(lang, "ít phút", "a few minutes")
	if e.Wait > 0 {
		wait = waitText(e.Wait, lang)
	}
	return pick(lang,
		fmt.Sprintf("Máy chủ tạm ngừng nhận đăng ký từ mạng này vì đã có quá nhiều lần nhập sai mã (có thể từ máy khác dùng chung mạng). Chưa chắc mã của bạn sai: máy chủ chưa kiểm tra mã này. Hãy đợi khoảng %s rồi thử lại với đúng mã này; mã chưa bị dùng.", wait),
		fmt.Sprintf("The server has paused enrollments from this network after too many wrong codes (perhaps from other laptops on the same network). Your code is not necessarily wrong: the server did not check it. Wait about %s, then try again with the same code; it is not used up.", wait))
}

// waitText says how long wait is, for a person: minutes, rounded up.
func waitText(wait time.Duration, lang string) string {
	m := int((wait + time.Minute - 1) / time.Minute)
	if isEN(lang) {
		if m == 1 {
			return "1 minute"
		}
		return fmt.Sprintf("%d minutes", m)
	}
	return fmt.Sprintf("%d phút", m)
}

// throttled reads a 429 answer to an enrollment: too_many_attempts, or
// code_invalid from a server before it (PROTOCOL.md §3).
func throttled(resp *http.Response, se *ServerError) *ThrottledError {
	te := &ThrottledError{Err: se}
	if s, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && s > 0 && s <= 24*3600 {
		te.Wait = time.Duration(s) * time.Second
	}
	return te
}
