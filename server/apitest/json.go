package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// decodeJSON decodes a body as the schema validator expects it.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, fmt.Errorf("the body is not JSON: %w", err)
	}
	return v, nil
}
