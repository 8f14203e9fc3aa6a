package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// TransitionRequest moves a field report to another status (the moves
// allowed are schema.CanTransition's).
type TransitionRequest struct {
	To     string `json:"to"`
	Agency string `json:"agency,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// TransitionResult is what a transition wrote.
type TransitionResult struct {
	ID     string         `json:"id"`
	From   string         `json:"from"`
	To     string         `json:"to"`
	Fields map[string]any `json:"fields"`
	Head   uint64         `json:"head"`
	Hamlet string         `json:"hamlet_code"`
	At     time.Time      `json:"at"`
}

// Workflow errors, mapped to HTTP by HTTPError (errors.go).
var (
	// ErrReportNotFound: no field report has the id.
	ErrReportNotFound = &APIError{Status: 404, Code: "not_found", Message: "no field report with that id",
		HintVI: "Không tìm thấy phản ánh này. Hãy tải lại danh sách.", HintEN: "No such field report. Reload the list."}
)

// Transition records a status change of a field report as synced changes
// written by the server's own replica, through the committer like every
// pushed change (writeOwn), so the volunteer's replica shows the outcome
// after its next pull. The current status is read inside the write
// transaction: two coordinators acting at once cannot both move the report
// out of the same status.
func (s *Server) Transition(ctx context.Context, reportID syncproto.RowID, req TransitionRequest) (TransitionResult, error) {
	to := schema.ReportStatus(strings.TrimSpace(req.To))
	// Counted as stored (NFC): a reason typed decomposed is no longer.
	req.Agency, req.Reason = norm.NFC.String(strings.TrimSpace(req.Agency)), norm.NFC.String(strings.TrimSpace(req.Reason))
	if !to.Valid() {
		return TransitionResult{}, BadParamText("to",
			fmt.Sprintf("Trạng thái %q không có; chọn một trong: %s.", req.To, schema.EnumChoices(schema.EnumReportStatus, "vi")),
			fmt.Sprintf("unknown status %q (want one of %s)", req.To, strings.Join(schema.EnumValues(schema.EnumReportStatus), ", ")))
	}
	if to == schema.StatusReturned && req.Reason == "" {
		return TransitionResult{}, &APIError{Status: 400, Code: "reason_required", Message: "returning a report needs a reason",
			HintVI: "Hãy ghi lý do trả lại (ví dụ: thủ tục hành chính, khiếu nại tố cáo không thuộc phản ánh hiện trường).",
			HintEN: "Give the reason for returning it (e.g. an administrative procedure or a complaint is not a field report)."}
	}
	if utf8.RuneCountInString(req.Reason) > 2000 || utf8.RuneCountInString(req.Agency) > 100 {
		return TransitionResult{}, BadParamText("reason", "Lý do dài nhiều nhất 2.000 ký tự, tên cơ quan xử lý nhiều nhất 100 ký tự: hãy viết ngắn lại.",
			"reason must be at most 2000 characters and agency at most 100")
	}
	now := s.now()
	fields := map[string]syncproto.Value{"status": syncproto.String(string(to))}
	switch to {
	case schema.StatusDispatched:
		fields["dispatched_at"] = syncproto.Int(now.UnixMilli())
		if req.Agency != "" {
			fields["agency"] = syncproto.String(req.Agency)
		}
	case schema.StatusResolved:
		fields["resolved_at"] = syncproto.Int(now.UnixMilli())
	case schema.StatusRedispatch:
		// The hand-back deadline runs from here: dispatched_at marks when
		// the report came back to the portal (analytics.deadline).
		fields["dispatched_at"] = syncproto.Int(now.UnixMilli())
	}
	// A reason is the latest transition's: one without a reason clears
	// the last (a hand-back's "not this agency's" beside a new dispatch
	// told the volunteer the wrong thing).
	fields["status_reason"] = syncproto.Null()
	if req.Reason != "" {
		fields["status_reason"] = syncproto.String(req.Reason)
	}
	t, _ := schema.LookupTable("field_reports")
	write := schema.Write{Fields: map[string]any{}, Writer: schema.WriterCoordinator, Today: schema.Today(now)}
	for f, v := range fields {
		write.Fields[f] = v.Any()
	}
	norm, err := t.CheckWrite(write) // the same check a pushed change gets
	if err != nil {
		var ve *schema.ValidationError
		if errors.As(err, &ve) {
			return TransitionResult{}, BadParamText(ve.Field, ve.Message("vi"), ve.Message("en"))
		}
		return TransitionResult{}, BadParam("to", err.Error())
	}
	for f := range fields {
		if fields[f], err = syncproto.ValueOf(norm[f]); err != nil {
			return TransitionResult{}, BadParam(f, err.Error())
		}
	}
	res := TransitionResult{ID: reportID.String(), To: string(to), Fields: map[string]any{}, At: now}
	out, err := s.writeOwn(func(b *batch) error {
		ref := RowRef{"field_reports", reportID}
		rc, err := b.row(ref.Table, ref.Row)
		if err != nil {
			return err
		}
		if !rc.exists || rc.st.Deleted {
			return ErrReportNotFound
		}
		from := schema.StatusSubmitted
		if v, ok := rc.st.Versions["status"]; ok && !v.Value.IsNull() {
			from = schema.ReportStatus(v.Value.AsString())
		}
		res.From, res.Hamlet = string(from), rc.st.Scope
		if !schema.CanTransition(from, to) {
			return &APIError{Status: 409, Code: "invalid_transition", Message: fmt.Sprintf("a report in status %s cannot move to %s", from, to),
				HintVI: fmt.Sprintf("Phản ánh đang ở trạng thái “%s”, không chuyển sang “%s” được. Hãy tải lại để xem trạng thái mới nhất.",
					schema.EnumLabel(schema.EnumReportStatus, string(from), "vi"), schema.EnumLabel(schema.EnumReportStatus, string(to), "vi")),
				HintEN: fmt.Sprintf("The report is %q and cannot move to %q. Reload to see its latest status.",
					schema.EnumLabel(schema.EnumReportStatus, string(from), "en"), schema.EnumLabel(schema.EnumReportStatus, string(to), "en"))}
		}
		for _, f := range []string{"status", "agency", "status_reason", "dispatched_at", "resolved_at"} {
			v, ok := fields[f]
			if !ok {
				continue
			}
			if cur, had := rc.st.Versions[f]; v.IsNull() && (!had || cur.Value.IsNull()) {
				continue // no reason to clear
			}
			if err := b.serverWrite(ref, rc, f, v); err != nil {
				return err
			}
			res.Fields[f] = v.Any()
		}
		return nil
	})
	if err != nil {
		return TransitionResult{}, err
	}
	res.Head = out.head
	s.log.Info("field report status changed", LogRow, res.ID, "from", res.From, "to", res.To, "hamlet", res.Hamlet)
	return res, nil
}

// ImportStats counts what ApplyChanges did.
type ImportStats struct {
	Applied, Duplicate, Superseded, Refused, Conflicts int
	Head                                               uint64
	// FirstRefusal is the reason of the first refused change, if any.
	FirstRefusal string
}

// ApplyChanges applies changes made on another replica (a generator, an
// import from another system) through the push path, exactly as if a
// device of that replica had pushed them, with every hamlet in force in
// scope. Dots must continue the replica's sequence (see PushedSeq).
func (a *Admin) ApplyChanges(ctx context.Context, replica syncproto.ReplicaID, changes []syncproto.Change) (ImportStats, error) {
	if replica == a.s.id || replica == a.s.writer {
		return ImportStats{}, errors.New("apply changes: the server's own replica writes through Transition, not here")
	}
	scope, err := a.hamletScope(ctx)
	if err != nil {
		return ImportStats{}, err
	}
	out, err := a.s.applyPush(ctx, pusher{deviceID: "import:" + replica.String(), replica: replica, scope: scope, writer: schema.WriterCoordinator}, changes)
	if err != nil {
		return ImportStats{}, err
	}
	st := ImportStats{Applied: out.applied, Duplicate: out.duplicate, Superseded: out.superseded, Refused: out.refused,
		Conflicts: out.conflicts, Head: out.head}
	for _, r := range out.results {
		if r.Status == syncproto.ResultRefused {
			st.FirstRefusal = string(r.Code) + ": " + r.Reason
			break
		}
	}
	return st, nil
}

// PushedSeq is the highest origin sequence the server holds from replica.
func (a *Admin) PushedSeq(ctx context.Context, replica syncproto.ReplicaID) (uint64, error) {
	return a.s.store.PushedSeq(ctx, replica)
}

func (a *Admin) hamletScope(ctx context.Context) (map[string]bool, error) {
	hs, err := a.s.store.Units(ctx, schema.LevelHamlet, "")
	if err != nil {
		return nil, err
	}
	scope := make(map[string]bool, len(hs))
	for _, h := range hs {
		if h.RetiredOn == "" {
			scope[h.Code] = true
		}
	}
	return scope, nil
}
