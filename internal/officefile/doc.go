// Package officefile tells, from its first bytes, whether a file is an
// Office document rather than text, and whether it is one saved with a
// password, and what a zip archive holds (a workbook, a Word or
// OpenDocument file, other files zipped): both the server's CSV readers and
// the agent's import tell such a file for what it is, and what to do.
//
// It is pure: it imports archive/zip, bufio, bytes, io, sort and strings
// alone, and never a database, the network or the file system.
package officefile
