package server

// Log keys. Log lines carry ids, codes and counts, never personal data: no
// names, phones, free text or field values.
const (
	LogDevice   = "device"
	LogMember   = "member"
	LogTeam     = "team"
	LogReplica  = "replica"
	LogRemote   = "remote"
	LogCode     = "code"
	LogTable    = "table"
	LogField    = "field"
	LogRow      = "row"
	LogSeq      = "seq"
	LogBatch    = "batch"
	LogChanges  = "changes"
	LogDuration = "duration"
	LogErr      = "err"
	LogCursor   = "cursor"
	LogAddr     = "addr"
)
