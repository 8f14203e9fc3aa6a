// Package testpar runs a package's tests more at a time than Go's default
// of one per core, for packages whose tests mostly wait (on processes they
// start, on a server's answers on loopback, on sleeps past the clock
// bound) rather than compute: cmd/hamlet-agent's tests took 8 minutes of a
// 2-core machine that sat 85 % idle, the agent's 3 minutes at a quarter of
// its CPU.
//
// It is for tests only (a TestMain calls it), and must never import a
// package of the module: flag, runtime, strconv and testing alone.
package testpar
