// Package versions is the one encoding of a synced row's field versions
// that every server store keeps (the compact format, and the msgpack format
// of earlier builds it still reads), and of a synced value as a SQL column
// holds it natively. The stores share it, so that migrate-store copies the
// blobs between them unchanged. It does no I/O.
//
// It is pure, as syncproto is: it must never import a database, network or
// file package, and of the module only syncproto and internal/compact.
package versions
