// Package officefile tells, from its first bytes, whether a file is an
// Office document rather than text, and whether it is one saved with a
// password: both the server's CSV readers and the agent's import tell such
// a file for what it is, and what to do.
//
// It is pure: it imports bufio, bytes and io alone, and never a database,
// the network or the file system.
package officefile
