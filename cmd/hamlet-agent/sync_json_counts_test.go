package main

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestSyncJSONCountsArePlainNumbers: scripts read `sync --json`: a first
// sync of 1,500 households prints one JSON document on stdout, in either
// language, whose counts are JSON numbers (1500), not text written as a
// person reads it (1.500, 1,500), and no line for a person mixed in.
func TestSyncJSONCountsArePlainNumbers(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t, servertest.WithSynchronous("NORMAL"))
	seedServer(t, ts, 1500)
	for _, lang := range []string{"vi", "en"} {
		t.Run(lang, func(t *testing.T) {
			l := newLaptop(t, t.TempDir())
			l.lang = lang
			l.enroll(ts)
			r := l.must("sync", "--json")
			t.Logf("stdout: %.300s\nstderr: %s", r.stdout, r.stderr)
			dec := json.NewDecoder(bytes.NewReader([]byte(r.stdout)))
			dec.UseNumber()
			var doc map[string]any
			require.NoError(t, dec.Decode(&doc))
			rest, _ := io.ReadAll(dec.Buffered())
			assert.Empty(t, bytes.TrimSpace(rest), "stdout holds more than the JSON document")
			assert.Equal(t, json.Number("1500"), doc["cloned"])
			for _, k := range []string{"pushed", "pulled", "conflicts", "rejected"} {
				_, ok := doc[k].(json.Number)
				assert.True(t, ok, "%s = %v", k, doc[k])
			}
			checkJSONIntegers(t, "sync --json", []byte(r.stdout))
			assert.NotContains(t, r.stdout, "1.500")
			assert.NotContains(t, r.stdout, "1,500")
		})
	}
}
