package server

import (
	"strconv"

	"github.com/hamlet-vn/hamlet/internal/refusal"
	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/syncproto"
)

// Agents of two schema versions sync with one server at once
// (docs/PROTOCOL.md, "Schema evolution"). The server runs the current
// schema; each session remembers its agent's schema (Hello.Schema) and:
//
//   - sends every field, including those the agent's schema does not have:
//     an older agent keeps them in its row states and never rewrites them,
//     so all replicas stay identical and the agent's upgrade fills its new
//     columns without pulling again;
//   - validates every pushed change against the current schema, whatever
//     the agent's version: an older agent can only pass on a value it
//     received (restoring a conflict, say), and a tampered one is refused
//     with a reason that names the field and the version that added it;
//   - refuses an agent older than Config.MinAgentSchema, or newer than this
//     build, with a syncproto.SchemaAdvice that says what to update and
//     where to get it (Config.AgentUpdate).

func (c *Config) schemaDefaults() {
	c.MinAgentSchema = min(max(c.MinAgentSchema, schema.MinSupportedVersion), schema.Version)
}

// schemaRefusal is the error a session ends with when the agent's schema is
// outside what this server accepts.
func (s *Server) schemaRefusal(dev Device, agent int) *syncproto.Error {
	a := syncproto.SchemaAdvice{Agent: agent, Min: s.cfg.MinAgentSchema, Max: schema.Version, Update: s.cfg.AgentUpdate}
	s.log.Info("agent schema not accepted", LogDevice, dev.ID, "agent_schema", agent,
		"min_schema", s.cfg.MinAgentSchema, "max_schema", schema.Version, "too_old", a.TooOld())
	return a.Err()
}

// olderSchemaReason rewrites the refusal of a change to a field that the
// pushing agent's schema does not have, so the reason says why such an
// agent sent it at all.
func olderSchemaReason(agent int, c *syncproto.Change, ch checked) checked {
	since := schema.AddedIn(c.Table, c.Field)
	if since <= agent {
		return ch
	}
	w := refusal.Why(refusal.NewerField, "table", c.Table, "field", c.Field, "added_in", strconv.Itoa(since), "agent", strconv.Itoa(agent),
		"cause", ch.why.Key)
	for k, v := range ch.why.Params {
		if _, ok := w.Params[k]; !ok {
			w.Params[k] = v
		}
	}
	return checked{code: ch.code, why: w}
}
