// Package agenttest opens agent replicas for tests and checks their
// invariants when the test ends (the bbolt MustCreateDB pattern).
//
// It is a test helper: only tests import it. Like the agent, it must never
// import anything under server/.
package agenttest
