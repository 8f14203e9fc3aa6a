package server

// TailRead answers q from the server's tail of the log in memory, as a pull
// would, for tests comparing it with the store (logtail_test.go).
func TailRead(s *Server, q LogQuery) (LogPage, bool) {
	page, _, ok := s.hub.fromTail(q)
	return page, ok
}
