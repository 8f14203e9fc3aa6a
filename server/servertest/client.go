package servertest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Client is a minimal sync client for tests, benchmarks and the load tool:
// one WebSocket, one message per frame, syncproto.Encode/Decode. It is not
// the agent; it speaks the protocol and nothing more.
type Client struct {
	WS      *websocket.Conn
	Replica syncproto.ReplicaID
	Welcome *syncproto.Welcome
	Limits  syncproto.Limits
	Timeout time.Duration
	// Notifies counts Notify messages seen while waiting for answers.
	Notifies int
	buf      []byte
}

// Enroll exchanges a code at baseURL (http://host:port) for a token.
func Enroll(ctx context.Context, baseURL, code string, replica syncproto.ReplicaID, label string) (syncproto.EnrollResponse, int, *server.ErrorBody, error) {
	body, _ := json.Marshal(syncproto.EnrollRequest{Code: code, ReplicaID: replica.String(), Label: label, Client: "servertest"})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/v1/enroll", bytes.NewReader(body))
	if err != nil {
		return syncproto.EnrollResponse{}, 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return syncproto.EnrollResponse{}, 0, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var eb server.ErrorBody
		if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
			return syncproto.EnrollResponse{}, resp.StatusCode, nil, fmt.Errorf("decode error body: %w", err)
		}
		return syncproto.EnrollResponse{}, resp.StatusCode, &eb, nil
	}
	var er syncproto.EnrollResponse
	if err := json.NewDecoder(resp.Body).Decode(&er); err != nil {
		return er, resp.StatusCode, nil, fmt.Errorf("decode enroll response: %w", err)
	}
	return er, resp.StatusCode, nil, nil
}

// SyncURL turns http://host:port into ws://host:port/v1/sync.
func SyncURL(baseURL string) string {
	return "ws" + strings.TrimPrefix(baseURL, "http") + "/v1/sync"
}

// Dial opens a sync session (no Hello yet). On an HTTP refusal it returns
// the status and the decoded error body.
func Dial(ctx context.Context, baseURL, token string) (*Client, int, *server.ErrorBody, error) {
	d := websocket.Dialer{EnableCompression: true, HandshakeTimeout: 10 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 4096}
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	ws, resp, err := d.DialContext(ctx, SyncURL(baseURL), h)
	if err != nil {
		if resp != nil {
			defer resp.Body.Close()
			var eb server.ErrorBody
			if json.NewDecoder(resp.Body).Decode(&eb) == nil {
				return nil, resp.StatusCode, &eb, err
			}
			return nil, resp.StatusCode, nil, err
		}
		return nil, 0, nil, err
	}
	return &Client{WS: ws, Limits: syncproto.DefaultLimits, Timeout: 30 * time.Second}, resp.StatusCode, nil, nil
}

// Send writes one message.
func (c *Client) Send(m syncproto.Message) error {
	b, err := syncproto.Encode(c.buf[:0], m)
	if err != nil {
		return err
	}
	c.buf = b
	c.WS.EnableWriteCompression(len(b) > 1024)
	_ = c.WS.SetWriteDeadline(time.Now().Add(c.Timeout))
	return c.WS.WriteMessage(websocket.BinaryMessage, b)
}

// Recv reads one message.
func (c *Client) Recv() (syncproto.Message, error) {
	_ = c.WS.SetReadDeadline(time.Now().Add(c.Timeout))
	_, b, err := c.WS.ReadMessage()
	if err != nil {
		return nil, err
	}
	return syncproto.Decode(b, c.Limits)
}

// RecvAnswer reads messages until one that is not a Notify. An ErrorMsg is
// returned as a *syncproto.Error.
func (c *Client) RecvAnswer() (syncproto.Message, error) {
	for {
		m, err := c.Recv()
		if err != nil {
			return nil, err
		}
		switch m := m.(type) {
		case *syncproto.Notify:
			c.Notifies++
			continue
		case *syncproto.ErrorMsg:
			return m, m.Err()
		}
		return m, nil
	}
}

// WaitNotify waits up to d for a Notify and returns its cursor (0 on
// timeout). Any other message is an error. After a timeout the connection is
// unusable (gorilla/websocket), so use a d you mean as a failure.
func (c *Client) WaitNotify(d time.Duration) (uint64, error) {
	_ = c.WS.SetReadDeadline(time.Now().Add(d))
	_, b, err := c.WS.ReadMessage()
	if err != nil {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) && ne.Timeout() {
			return 0, nil
		}
		return 0, err
	}
	m, err := syncproto.Decode(b, c.Limits)
	if err != nil {
		return 0, err
	}
	n, ok := m.(*syncproto.Notify)
	if !ok {
		return 0, fmt.Errorf("want notify, got %s", m.Type())
	}
	c.Notifies++
	return n.Cursor, nil
}

// Hello sends Hello and waits for Welcome.
func (c *Client) Hello(replica syncproto.ReplicaID) (*syncproto.Welcome, error) {
	c.Replica = replica
	if err := c.Send(&syncproto.Hello{Protocol: syncproto.ProtocolVersion, Schema: schema.Version, Replica: replica,
		Client: "servertest", SentAt: time.Now().UnixMilli()}); err != nil {
		return nil, err
	}
	m, err := c.RecvAnswer()
	if err != nil {
		return nil, err
	}
	w, ok := m.(*syncproto.Welcome)
	if !ok {
		return nil, fmt.Errorf("want welcome, got %s", m.Type())
	}
	c.Welcome = w
	return w, nil
}

// Push sends a batch and waits for its Ack.
func (c *Client) Push(batch uint64, changes []syncproto.Change) (*syncproto.Ack, error) {
	if err := c.Send(&syncproto.Push{Batch: batch, Changes: changes}); err != nil {
		return nil, err
	}
	m, err := c.RecvAnswer()
	if err != nil {
		return nil, err
	}
	a, ok := m.(*syncproto.Ack)
	if !ok {
		return nil, fmt.Errorf("want ack, got %s", m.Type())
	}
	if a.Batch != batch || len(a.Results) != len(changes) {
		return nil, fmt.Errorf("ack for batch %d with %d results, want batch %d with %d", a.Batch, len(a.Results), batch, len(changes))
	}
	return a, nil
}

// PushAll pushes changes in batches of size, keeping window batches in flight
// as an agent does (the next batch is on the wire while the server commits
// the previous one), and fails unless every change is applied.
func (c *Client) PushAll(changes []syncproto.Change, size, window int) error {
	var sent, acked int
	await := func() error {
		m, err := c.RecvAnswer()
		if err != nil {
			return err
		}
		a, ok := m.(*syncproto.Ack)
		if !ok {
			return fmt.Errorf("want ack, got %s", m.Type())
		}
		for i, r := range a.Results {
			if r.Status != syncproto.ResultApplied {
				return fmt.Errorf("batch %d change %d: status %d (%s %s)", a.Batch, i, r.Status, r.Code, r.Reason)
			}
		}
		acked++
		return nil
	}
	for j, batch := 0, uint64(1); j < len(changes); batch++ {
		// As the agent does, a batch never splits one row's run of changes:
		// the server judges a new row by what one push carries for it.
		end := min(j+size, len(changes))
		if end < len(changes) {
			n := end
			for n > j && changes[n-1].Row == changes[end].Row {
				n--
			}
			if n > j {
				end = n
			}
		}
		if err := c.Send(&syncproto.Push{Batch: batch, Changes: changes[j:end]}); err != nil {
			return err
		}
		j = end
		sent++
		for sent-acked >= window {
			if err := await(); err != nil {
				return err
			}
		}
	}
	for acked < sent {
		if err := await(); err != nil {
			return err
		}
	}
	return nil
}

// Pull sends one Pull and waits for its Changes.
func (c *Client) Pull(cursor uint64, limit uint32) (*syncproto.Changes, error) {
	if err := c.Send(&syncproto.Pull{Cursor: cursor, Limit: limit}); err != nil {
		return nil, err
	}
	m, err := c.RecvAnswer()
	if err != nil {
		return nil, err
	}
	ch, ok := m.(*syncproto.Changes)
	if !ok {
		return nil, fmt.Errorf("want changes, got %s", m.Type())
	}
	return ch, nil
}

// PullAll pulls from cursor until More is false and returns everything and
// the final cursor.
func (c *Client) PullAll(cursor uint64) ([]syncproto.Change, []syncproto.Eviction, uint64, error) {
	var all []syncproto.Change
	var ev []syncproto.Eviction
	for {
		ch, err := c.Pull(cursor, 0)
		if err != nil {
			return all, ev, cursor, err
		}
		all = append(all, ch.Changes...)
		ev = append(ev, ch.Evict...)
		cursor = ch.To
		if !ch.More {
			return all, ev, cursor, nil
		}
	}
}

// Close closes the session.
func (c *Client) Close() error {
	_ = c.WS.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	return c.WS.Close()
}

// Writer makes changes the way an agent does, with an HLC clock and a
// per-replica sequence: enough for tests and the load tool.
type Writer struct {
	Replica syncproto.ReplicaID
	Seq     uint64
	Clock   *syncproto.Clock
	last    map[syncproto.FieldKey]syncproto.Version
}

// NewWriter makes a writer for replica with a clock reading now.
func NewWriter(replica syncproto.ReplicaID, now func() time.Time) *Writer {
	if now == nil {
		now = time.Now
	}
	return &Writer{Replica: replica, Clock: syncproto.NewClock(now, 0), last: map[syncproto.FieldKey]syncproto.Version{}}
}

// Write makes one field change based on what this writer last wrote or saw.
func (w *Writer) Write(table string, row syncproto.RowID, field string, v syncproto.Value, scope string) syncproto.Change {
	k := syncproto.FieldKey{Table: table, Row: row, Field: field}
	c := syncproto.Change{Table: table, Row: row, Field: field, Value: v, Scope: scope}
	w.Seq++
	w.last[k] = syncproto.Stamp(&c, w.Clock, syncproto.Dot{Replica: w.Replica, Seq: w.Seq}, w.current(k))
	return c
}

// Household makes a new household as an agent writes one: its hamlet and
// head's name, the fields a household cannot be without.
func (w *Writer) Household(row syncproto.RowID, hamlet, head string) []syncproto.Change {
	return []syncproto.Change{
		w.Write("households", row, "hamlet_code", syncproto.String(hamlet), hamlet),
		w.Write("households", row, "head_name", syncproto.String(head), hamlet),
	}
}

// Saw records a change received from the server, so later writes base on it.
func (w *Writer) Saw(c syncproto.Change) {
	k := c.Key()
	cur := w.current(k)
	o := syncproto.Resolve(cur, &c)
	syncproto.ApplyOutcome(o, cur, &c, func(v syncproto.Version) { w.last[k] = v })
	if o.Installs() {
		_ = w.Clock.Observe(c.HLC)
	}
}

// current is the field's version as this writer knows it (nil: none).
func (w *Writer) current(k syncproto.FieldKey) *syncproto.Version {
	if cur, ok := w.last[k]; ok {
		return &cur
	}
	return nil
}

// PhotoFrames is a photo upload's body (PUT /v1/photos/{digest},
// PROTOCOL.md §19) for data: chunks of at most n bytes, each behind its
// length (4 bytes, big-endian) and its SHA-256. Frame data[at:] for an
// upload resumed at at.
func PhotoFrames(data []byte, n int) []byte {
	var out []byte
	for p := 0; p < len(data); p += n {
		c := data[p:min(len(data), p+n)]
		s := sha256.Sum256(c)
		out = binary.BigEndian.AppendUint32(out, uint32(len(c)))
		out = append(append(out, s[:]...), c...)
	}
	return out
}
