package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/hamlet-vn/hamlet/syncproto"
)

// POST /v1/fork: a copy of a data folder (fork.go) continues under a new
// replica id. The agent names the id it made, and the sequence its
// numbering starts after (start_seq: its own counter, so that none of the
// sequences its file already uses for the refused changes it keeps is ever
// issued again), and authenticates with the token it holds: the token of
// the device whose folder was copied. The server makes a new device of the
// same member for the new replica and answers as an enrollment does. The
// original device is left as it is: the other copy goes on with it.
//
// The same request again (its answer was lost) gets the same device with a
// new token. A replica id some other device or push already uses is
// refused (replica_active).

// ForkRequest is the body of POST /v1/fork (syncproto: shared with the
// agent).
type ForkRequest = syncproto.ForkRequest

// ErrRevoked: the device was revoked (a fork asked with its token).
var ErrRevoked = errors.New("the device is revoked")

// maxStartSeq bounds start_seq far below what a replica could ever write.
const maxStartSeq = 1 << 53

func (s *Server) handleFork(w http.ResponseWriter, r *http.Request) {
	dev, err := s.authenticate(r)
	if err != nil {
		s.log.Info("fork refused", LogRemote, ClientAddr(r), LogCode, string(protoError(err).Code))
		WriteHTTPError(w, err)
		return
	}
	var req ForkRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<10)).Decode(&req); err != nil {
		WriteHTTPError(w, syncproto.Errorf(syncproto.CodeBadFrame, "the body must be JSON: {replica_id, start_seq, label, client}"))
		return
	}
	replica, err := uuid.Parse(req.ReplicaID)
	switch {
	case err != nil || replica == uuid.Nil:
		WriteHTTPError(w, syncproto.Errorf(syncproto.CodeInvalidValue, "replica_id must be a UUID"))
		return
	case replica == dev.Replica:
		WriteHTTPError(w, syncproto.Errorf(syncproto.CodeInvalidValue, "replica_id must be a new replica id, not the device's own"))
		return
	case req.StartSeq > maxStartSeq:
		WriteHTTPError(w, syncproto.Errorf(syncproto.CodeInvalidValue, "start_seq must be at most %d", uint64(maxStartSeq)))
		return
	}
	label := strings.TrimSpace(req.Label)
	if err := checkDeviceText(label, req.Client); err != nil {
		WriteHTTPError(w, err)
		return
	}
	if label == "" {
		// Checked as the client's own text only: the device's label was
		// stored before labels were checked, and a copied folder must not
		// be stuck on it.
		label = dev.Label
	}
	tok, err := newToken()
	if err != nil {
		WriteHTTPError(w, err)
		return
	}
	d := Device{ID: s.cfg.NewID().String(), Replica: replica, Label: label, Client: req.Client, TokenHash: hashToken(tok), Created: s.now()}
	// Whether the device of an earlier fork ever connected is in the
	// activity this process has not written yet.
	s.flushActivity(r.Context())
	en, err := ForkDevice(r.Context(), s.store, dev, d, req.StartSeq)
	if errors.Is(err, ErrRevoked) {
		err = errRevoked
	}
	if err != nil {
		pe := protoError(err)
		if pe.Code == syncproto.CodeInternal {
			s.log.Error("fork failed", LogDevice, dev.ID, LogErr, err)
		} else {
			s.log.Info("fork refused", LogDevice, dev.ID, LogCode, string(pe.Code))
		}
		WriteHTTPError(w, err)
		return
	}
	if en.Again {
		s.tokenReplaced(en.Device.ID)
	}
	s.log.Info("replica forked onto a new device", LogDevice, en.Device.ID, "forked_from", dev.ID, LogMember, en.Member.ID,
		LogReplica, replica.String(), "from_replica", dev.Replica.String(), "start_seq", req.StartSeq, "again", en.Again)
	WriteJSON(w, http.StatusOK, s.enrollResponse(r.Context(), en, tok))
}

// errOtherServer: Enroll's server_id names another server.
var errOtherServer = syncproto.Errorf(syncproto.CodeOtherServer,
	"the replica holds the data of another Hamlet server; enroll a new data folder with this code (the code is not used up)")

// checkEnrollServer refuses, before the code is used, a replica that holds
// another server's data (issue 14, defect 3): its sequences, cursor and
// rows belong to that server.
func (s *Server) checkEnrollServer(req syncproto.EnrollRequest) error {
	if req.ServerID == "" {
		return nil
	}
	if id, err := uuid.Parse(req.ServerID); err != nil || id != s.id {
		return errOtherServer
	}
	return nil
}

// tokenReplaced ends the sessions a device's previous token opened: a
// device's token was replaced (its enroll or fork asked again).
func (s *Server) tokenReplaced(deviceID string) {
	for _, c := range s.hub.device(deviceID) {
		c.fail(syncproto.Errorf(syncproto.CodeUnauthorized, "the device's token was replaced"))
	}
}
