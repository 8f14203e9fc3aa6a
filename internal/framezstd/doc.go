// Package framezstd compresses the sync socket's large frames from the
// server to the agent with zstd, when the agent offers it at the upgrade
// (docs/PROTOCOL.md §2.2): the frame is one zstd frame holding the msgpack
// message, sent without permessage-deflate.
//
// Why not deflate: a province clone moves some 300 MB of messages, and
// permessage-deflate (gorilla/websocket on the standard library's
// compress/flate, at its fastest level) cost 5.2 s of the server's CPU to
// compress them and 2.8 s of the agent's to inflate them, a sixth of the
// clone's CPU on both sides (issue 20). On the clone's own frames zstd at
// its fastest level (github.com/klauspost/compress, which the Go community
// keeps and fuzzes) takes half the time to compress, a seventh to
// decompress, and its output is 15% smaller: fewer bytes on a 3G link too.
//
// A msgpack message is an array, so its first byte is never the zstd magic
// number's: the agent tells a zstd frame by its first four bytes, and a
// frame it did not ask for is decoded as msgpack, as before.
package framezstd
