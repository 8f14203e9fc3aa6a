package syncproto

// The JSON bodies of the HTTP calls beside the sync socket
// (docs/PROTOCOL.md §2.4, §3, §18): the server answers with them and the
// agent sends and reads them, so each is declared once, here.

// EnrollRequest is the body of POST /v1/enroll.
type EnrollRequest struct {
	Code      string `json:"code"`
	ReplicaID string `json:"replica_id"`
	Label     string `json:"label"`
	Client    string `json:"client"`
	// ServerID is the server whose data the replica holds (empty when it
	// holds none): another server's is refused before the code is used.
	ServerID string `json:"server_id,omitempty"`
}

// EnrollResponse is the answer to a successful enrollment, and to a fork.
type EnrollResponse struct {
	DeviceID string      `json:"device_id"`
	Token    string      `json:"token"`
	MemberID string      `json:"member_id"`
	TeamID   string      `json:"team_id"`
	TeamName string      `json:"team_name"`
	Scope    []ScopeUnit `json:"scope"`
	ServerID string      `json:"server_id"`
	Schema   int         `json:"schema"`
}

// ScopeUnit names one hamlet of a device's scope.
type ScopeUnit struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// ForkRequest is the body of POST /v1/fork: a copy of a data folder asks
// for a replica id of its own (its answer is an EnrollResponse).
type ForkRequest struct {
	ReplicaID string `json:"replica_id"`
	StartSeq  uint64 `json:"start_seq"`
	Label     string `json:"label"`
	Client    string `json:"client"`
}

// ErrorBody is the JSON error of every HTTP endpoint.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong (message, English, for logs and
// developers) and what to do (hint, Vietnamese; hint_en, English).
type ErrorDetail struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	Hint    string `json:"hint"`
	HintEN  string `json:"hint_en"`
	// DeviceID is the device that stands in the way of an enrollment:
	// for replica_active the replica's device still active (revoke it
	// first), for replica_team the replica's last device; absent
	// otherwise. Clients read it here, not from Message's wording.
	DeviceID string `json:"device_id,omitempty"`
}
