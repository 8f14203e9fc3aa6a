package main

import "github.com/hamlet-vn/hamlet/syncproto"

func codeOf(s string) syncproto.Code { return syncproto.Code(s) }
