// Package readall reads a reader to its end into a buffer the caller
// sizes: the server's frames into a buffer it keeps per connection, the
// import's workbook parts into one the size their zip header gives.
// io.ReadAll starts at 512 bytes and doubles, clearing and copying a
// large input about twice over.
//
// It is pure: it imports io alone, and never a database, the network or
// the file system.
package readall
