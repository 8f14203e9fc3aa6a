package pgstore

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// A commit's notification lists its scopes, or says "all" when they would
// not fit in PostgreSQL's payload limit.
func TestCommitPayload(t *testing.T) {
	var p payload
	require.NoError(t, json.Unmarshal([]byte(commitPayload(map[string]uint64{"32002-01": 7}, 9)), &p))
	require.Equal(t, payload{Head: 9, Scopes: map[string]uint64{"32002-01": 7}}, p)

	many := map[string]uint64{}
	for i := 0; i < 2000; i++ {
		many[fmt.Sprintf("%05d-%02d", i, i%100)] = uint64(i)
	}
	s := commitPayload(many, 5000)
	require.Less(t, len(s), 8000)
	p = payload{}
	require.NoError(t, json.Unmarshal([]byte(s), &p))
	require.Equal(t, payload{Head: 5000, All: true}, p)
}
