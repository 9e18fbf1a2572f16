package decode

import "unsafe"

// lanes4 is the state skip4 works on (offsets known to lanes_amd64.s).
type lanes4 struct {
	pos   [4]int
	base  [4]unsafe.Pointer // each lane's block
	marks [4]unsafe.Pointer // each lane's marks of the current record
	table unsafe.Pointer    // skip4Table()
}

// lanes_amd64.s reads skipOp (kind at 0) and lanes4 at fixed offsets: the build
// fails here if they move (any index but 0 into a [1] is an error).
var (
	_ = [1]struct{}{}[unsafe.Sizeof(skipOp{})-8]
	_ = [1]struct{}{}[unsafe.Offsetof(skipOp{}.nullByte)-1]
	_ = [1]struct{}{}[unsafe.Offsetof(skipOp{}.valByte)-2]
	_ = [1]struct{}{}[unsafe.Offsetof(skipOp{}.n)-4]
	_ = [1]struct{}{}[unsafe.Offsetof(lanes4{}.base)-32]
	_ = [1]struct{}{}[unsafe.Offsetof(lanes4{}.marks)-64]
	_ = [1]struct{}{}[unsafe.Offsetof(lanes4{}.table)-96]
)

// skip4 runs ops[from:n] on the four lanes of st as far as the fast paths of
// run4 take them all, and returns the index of the op it stopped at (n when it
// ran them all); every lane is then at the start of that op.
//
//go:noescape
func skip4(ops *skipOp, from, n int, st *lanes4) int

// skip4Table is the address of skip4's handlers by skipKind.
func skip4Table() unsafe.Pointer

var skip4Handlers = skip4Table()

// asmLanes reports whether skip4 can run ops: every kind has a handler, and
// the nullable kinds' branch bytes are 0 and 2 (as compile makes them), which
// the handlers test for in one instruction.
func asmLanes(ops []skipOp) bool {
	for _, op := range ops {
		switch op.kind {
		case skipFixed, skipVarint, skipBytes, skipCall, skipMark:
		case skipNullFixed, skipNullVarint, skipNullBytes, skipNull:
			if op.nullByte|op.valByte != 2 || op.nullByte&op.valByte != 0 {
				return false
			}
		default:
			return false
		}
	}
	return len(ops) > 0
}

// run4fast is run4, with the fast paths in assembly when the program allows.
func (p *skipProgram) run4fast(ra, rb, rc, rd *reader, marks *[4][]uint32) int {
	if !p.asm {
		return p.run4(ra, rb, rc, rd, marks)
	}
	rs := [4]*reader{ra, rb, rc, rd}
	st := lanes4{table: skip4Handlers}
	for k, r := range rs {
		st.pos[k] = r.pos
		st.base[k] = unsafe.Pointer(unsafe.SliceData(r.buf))
		st.marks[k] = unsafe.Pointer(unsafe.SliceData(marks[k]))
	}
	ops := p.ops
	next := len(ops)
	for i := 0; ; i++ {
		if i = skip4(&ops[0], i, len(ops), &st); i == len(ops) {
			break
		}
		// The slow path, lane by lane, with every check.
		short := false
		for k, r := range rs {
			if st.pos[k] = p.slow(r, ops[i], st.pos[k]); st.pos[k] < 0 {
				return -1
			}
			short = short || len(r.buf)-st.pos[k] < p.span
		}
		if short {
			next = i + 1
			break
		}
	}
	for k, r := range rs {
		r.pos = st.pos[k]
	}
	return next
}
