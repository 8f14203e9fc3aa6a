// Package refusal names the reasons a server refuses a pushed change, as a
// key and parameters (syncproto.Why), and renders them in a person's
// language, so the server and every client say the same thing each in its
// user's language (issue 16: reasons mixed Vietnamese and English). The
// server renders a Vietnamese text too, for clients that read only
// Result.Reason. Parameters are ids, codes, numbers and times: never a
// value a person wrote. docs/PROTOCOL.md §5.4 lists the keys.
//
// It holds words, not machinery: it must never do I/O or read the wall
// clock, so the server, the agent and its app can all import it.
package refusal
