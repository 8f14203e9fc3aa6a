package pgstore_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/internal/photo"
	"github.com/hamlet-vn/hamlet/internal/photo/phototest"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TestPhotoAcrossProcesses: two server processes on one PostgreSQL
// database. A photo's upload begun through process A is continued through
// process B from the chunks A stored, and each process serves the photo
// and the same thumbnail (made once, kept in the database).
func TestPhotoAcrossProcesses(t *testing.T) {
	a, b, _ := twoServers(t, nil)
	dev := a.NewDevice(t, a.TeamA)
	c := a.Connect(t, dev)
	w := servertest.NewWriter(dev.Replica, nil)
	jpg := phototest.JPEG(phototest.Image(800, 600, true, 7), 85)
	digest := photo.Digest(jpg)
	row, h := uuid.New(), a.HamletsA[0]
	str := func(s string) syncproto.Value { return syncproto.String(s) }
	ack, err := c.Push(1, []syncproto.Change{
		w.Write("field_reports", row, "hamlet_code", str(h), h),
		w.Write("field_reports", row, "volunteer_id", str(dev.Enroll.MemberID), h),
		w.Write("field_reports", row, "category", str("dien_chieu_sang"), h),
		w.Write("field_reports", row, "description", str("Đèn đường hỏng"), h),
		w.Write("field_reports", row, "status", str("submitted"), h),
		w.Write("field_reports", row, schema.PhotoDigestsField, str(schema.PhotoDigestsValue([]string{digest}).(string)), h),
	})
	require.NoError(t, err)
	for _, r := range ack.Results {
		require.Equal(t, syncproto.ResultApplied, r.Status, r.Reason)
	}
	const chunk = 8 << 10
	frames := func(from, to int) []byte { return servertest.PhotoFrames(jpg[from:to], chunk) }
	put := func(base string, at int, body []byte) map[string]any {
		req, _ := http.NewRequest(http.MethodPut, base+"/v1/photos/"+digest, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+dev.Token)
		req.Header.Set("Upload-Length", fmt.Sprint(len(jpg)))
		req.Header.Set("Upload-Offset", fmt.Sprint(at))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return m
	}
	half := len(jpg) / 2 / chunk * chunk
	m := put(a.URL, 0, frames(0, half)) // the link dropped after these chunks
	require.EqualValues(t, half, m["stored"])
	require.Equal(t, false, m["complete"])
	m = put(b.URL, half, frames(half, len(jpg)))
	require.Equal(t, true, m["complete"])

	get := func(base, path string) []byte {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+dev.Token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		out, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return out
	}
	require.Equal(t, jpg, get(a.URL, "/v1/photos/"+digest), "process A serves what B completed")
	require.Equal(t, jpg, get(b.URL, "/v1/photos/"+digest))
	thB := get(b.URL, "/v1/photos/"+digest+"/thumb")
	require.Equal(t, thB, get(a.URL, "/v1/photos/"+digest+"/thumb"), "one thumbnail for every process")
}
