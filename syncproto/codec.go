package syncproto

// The msgpack wire codec of docs/PROTOCOL.md: Encode (encode.go) and
// Decode (decode.go, each message's layout in decode_messages.go), with the
// compact change list both write and read in changelist.go. Decoding is
// bounded by Limits before it allocates.

// Limits are the hard bounds a decoder enforces before it allocates anything.
type Limits struct {
	MaxFrame   int // bytes in one frame
	MaxChanges int // changes in one Push or Changes
	MaxString  int // bytes in one string value
	MaxDict    int // entries in a batch's name or replica dictionary
	MaxScope   int // hamlet codes in a Welcome
	MaxResults int // results in one Ack
	MaxEvict   int // evictions in one Changes
}

// DefaultLimits are the limits of docs/PROTOCOL.md.
var DefaultLimits = Limits{
	MaxFrame:   4 << 20,
	MaxChanges: 10000,
	MaxString:  64 << 10,
	MaxDict:    4096,
	MaxScope:   4096,
	MaxResults: 10000,
	MaxEvict:   10000,
}
