package main

import (
	"flag"
	"fmt"
	"strconv"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server"
)

// schemaFlags are serve's flags for agents of older data schemas
// (docs/PROTOCOL.md, "Schema evolution").
func schemaFlags(e *env, fs *flag.FlagSet, sf *serveFlags) {
	def := 0
	if v, err := strconv.Atoi(getenv("HAMLET_MIN_AGENT_SCHEMA", "0")); err == nil {
		def = v
	}
	fs.IntVar(&sf.minAgentSchema, "min-agent-schema", def, e.msg(
		fmt.Sprintf("phiên bản dữ liệu cũ nhất của hamlet-agent còn được đồng bộ, %d–%d; nếu không nêu: %d (HAMLET_MIN_AGENT_SCHEMA)", schema.MinSupportedVersion, schema.Version, schema.MinSupportedVersion),
		fmt.Sprintf("oldest hamlet-agent data schema still synced, %d–%d; if not given: %d (HAMLET_MIN_AGENT_SCHEMA)", schema.MinSupportedVersion, schema.Version, schema.MinSupportedVersion)))
	fs.StringVar(&sf.agentUpdate, "agent-update", getenv("HAMLET_AGENT_UPDATE", ""), e.msg(
		"nơi tải hamlet-agent mới (địa chỉ web hoặc lệnh), báo cho máy quá cũ (HAMLET_AGENT_UPDATE)",
		"where to get a new hamlet-agent (a URL or a command), told to agents that are too old (HAMLET_AGENT_UPDATE)"))
}

func (sf *serveFlags) applySchema(e *env, cfg *server.Config) error {
	if v := sf.minAgentSchema; v != 0 && (v < schema.MinSupportedVersion || v > schema.Version) {
		return fmt.Errorf("%s", e.msg(
			fmt.Sprintf("--min-agent-schema %d không hợp lệ: bản máy chủ này đồng bộ được phiên bản dữ liệu %d đến %d", v, schema.MinSupportedVersion, schema.Version),
			fmt.Sprintf("--min-agent-schema %d is invalid: this server build syncs schemas %d to %d", v, schema.MinSupportedVersion, schema.Version)))
	}
	cfg.MinAgentSchema, cfg.AgentUpdate = sf.minAgentSchema, sf.agentUpdate
	return nil
}
