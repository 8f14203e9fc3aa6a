// Package linktest is a TCP proxy that behaves like a rural 3G link, for
// the tests and benchmarks that put a real agent and a real server on
// loopback: these machines' kernels have no netem, iptables or nft, so the
// link's rate, latency, loss, stalls and cuts are made here. The agent's
// package tests (the photo benchmark) and the binaries' tests
// (cmd/hamlet-agent) both use it, so there is one such link.
//
// It is test support: only tests and benchmarks import it. It imports the
// network, time, testing and testify; it must never import a Hamlet package,
// and no binary may import it.
package linktest
