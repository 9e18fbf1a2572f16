//go:build amd64 || arm64

package decode

// prefetchMarks asks for the cache lines at data+marks[0], data+marks[2], ...
// data+marks[n-2]: where the values of one record start. A prefetch never
// faults and retires at once; a load in its place made decoding slower.
//
//go:noescape
func prefetchMarks(data *byte, marks *uint32, n int)
