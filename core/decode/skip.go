package decode

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"unsafe"

	"github.com/jetliner/jetliner/core/schema"
)

// A skip program skips a run of unselected fields. Most fields are flat (numbers,
// strings, fixed, nullable versions of these, records of them); a program lists
// them as instructions run by one loop, which costs far less per field than a
// call through a function value each. Adjacent fixed-size fields merge into one
// jump. Anything else (arrays, maps, general unions) is an instruction that calls
// the field's skipper.

type skipKind uint8

const (
	skipFixed  skipKind = iota // n bytes
	skipVarint                 // int, long, enum
	skipBytes                  // bytes, string: a length, then that many bytes
	skipCall                   // calls[n]
	// The same behind the branch index of a [null, T] union (null: nothing more).
	skipNullFixed
	skipNullVarint
	skipNullBytes
	skipNull // [null, null]: only the branch index
	// Records the position in marks[n]: where a selected column starts or ends
	// in the programs that index blocks (see index.go).
	skipMark
)

// skipOp is one instruction. It is kept small (8 bytes) so that a whole
// program sits in a few cache lines.
type skipOp struct {
	kind skipKind
	// For the skipNull* kinds: the one-byte encodings of the two branch indexes.
	nullByte, valByte byte
	n                 int32 // skipFixed, skipNullFixed: bytes; skipCall: index into calls; skipMark: index into marks
}

type skipProgram struct {
	ops   []skipOp
	calls []func(*reader)
	// span bounds the bytes the fast paths of one run of the whole program read
	// (set by setSpan): a reader with that many bytes left needs no bounds checks
	// until a slow path, which may take any number of bytes, has run.
	span int
	// asm: run4fast may use the assembly (set by setSpan).
	asm bool
}

// fastSpan bounds how far the fast paths of op (those of run and of the lanes)
// move the position.
func (op skipOp) fastSpan() int {
	switch op.kind {
	case skipFixed:
		return int(op.n)
	case skipVarint:
		return 8 // one 64-bit load
	case skipBytes:
		return 1 + 63 // a one-byte length
	case skipNullFixed:
		return 1 + int(op.n)
	case skipNullVarint:
		return 1 + 8
	case skipNullBytes:
		return 2 + 63
	case skipNull:
		return 1
	}
	return 0 // marks take nothing; calls always take the slow path
}

// setSpan sets p.span (and p.asm): each op starts within the sum of the fast spans of those
// before it and loads at most 9 bytes from there.
func (p *skipProgram) setSpan() {
	p.span = 9
	for _, op := range p.ops {
		p.span += op.fastSpan()
	}
	p.asm = asmLanes(p.ops)
}

// compileSkips builds the program that skips one value of each of nodes, in order.
func compileSkips(nodes []*schema.Node) *skipProgram {
	p := &skipProgram{}
	for _, n := range nodes {
		p.add(n)
	}
	return p
}

// mark appends an op that records the position in marks[k].
func (p *skipProgram) mark(k int) {
	p.ops = append(p.ops, skipOp{kind: skipMark, n: int32(k)})
}

// maxJump bounds a merged jump so that adding it to a position cannot overflow.
const maxJump = 1 << 30

func (p *skipProgram) add(n *schema.Node) {
	op := skipOp{kind: skipCall}
	var size int64 // of a fixed-size value
	switch n.Kind {
	case schema.Null:
		op.kind = skipNull
	case schema.Boolean:
		op.kind, size = skipFixed, 1
	case schema.Float:
		op.kind, size = skipFixed, 4
	case schema.Double:
		op.kind, size = skipFixed, 8
	case schema.Fixed:
		op.kind, size = skipFixed, int64(n.Size)
	case schema.Int, schema.Long, schema.Enum:
		op.kind = skipVarint
	case schema.Bytes, schema.String:
		op.kind = skipBytes
	case schema.Record:
		if !n.Nullable && !n.SingleUnion {
			for _, c := range n.Children {
				p.add(c)
			}
			return
		}
	}
	switch {
	case op.kind == skipCall || n.SingleUnion || size > maxJump:
		op = skipOp{kind: skipCall, n: int32(len(p.calls))}
		p.calls = append(p.calls, skipperFor(n))
	case n.Nullable:
		op.nullByte, op.valByte = byte(2*n.NullIndex), byte(2*(1-n.NullIndex))
		switch op.kind {
		case skipFixed:
			op.kind, op.n = skipNullFixed, int32(size)
		case skipVarint:
			op.kind = skipNullVarint
		case skipBytes:
			op.kind = skipNullBytes
		}
	case op.kind == skipNull:
		return // a plain null takes no bytes
	case op.kind == skipFixed:
		if last := len(p.ops) - 1; last >= 0 && p.ops[last].kind == skipFixed && int64(p.ops[last].n)+size <= maxJump {
			p.ops[last].n += int32(size)
			return
		}
		op.n = int32(size)
	}
	p.ops = append(p.ops, op)
}

// run skips one value of each field of the program.
//
// The loop is a chain: where each field ends depends on where the last one did,
// so its speed is the latency of that chain and the instructions around it. It
// is kept short: each kind, nullable or not, has a fast path for the common
// encodings (short lengths, varints of up to 8 bytes, data to spare) in one
// switch, with loads through a base pointer once the bounds are checked; all
// else (long encodings, the end of the block, bad data, calls) goes to slow, so
// that the loop keeps its few variables in registers.
func (p *skipProgram) run(r *reader) { p.runFrom(r, 0, nil) }

// runFrom runs the program from its op at index from, recording the positions of
// marks in marks.
func (p *skipProgram) runFrom(r *reader, from int, marks []uint32) {
	pos, end := r.pos, len(r.buf)
	base := unsafe.Pointer(unsafe.SliceData(r.buf))
	at := func(i int) byte { return *(*byte)(unsafe.Add(base, i)) }
	ops := p.ops
	for i := from; i < len(ops); i++ {
		op := ops[i]
		switch op.kind {
		case skipFixed:
			if end-pos >= int(op.n) {
				pos += int(op.n)
				continue
			}
		case skipVarint:
			if pos <= end-8 {
				// The varint ends at the first byte without its high bit: found
				// in one 64-bit load for the encodings of up to 8 bytes.
				x := *(*uint64)(unsafe.Add(base, pos))
				if stop := ^x & 0x8080808080808080; stop != 0 {
					pos += bits.TrailingZeros64(stop)>>3 + 1
					continue
				}
			}
		case skipBytes:
			// Lengths below 64 take one byte: by far the most common case.
			if pos < end {
				if b := at(pos); b < 0x80 && b&1 == 0 && end-pos > int(b>>1) {
					pos += 1 + int(b>>1)
					continue
				}
			}
		case skipNullFixed:
			if pos < end {
				b := at(pos)
				if b == op.nullByte {
					pos++
					continue
				}
				if b == op.valByte && end-pos > int(op.n) {
					pos += 1 + int(op.n)
					continue
				}
			}
		case skipNullVarint:
			if pos <= end-9 {
				b := at(pos)
				if b == op.nullByte {
					pos++
					continue
				}
				x := *(*uint64)(unsafe.Add(base, pos+1))
				if stop := ^x & 0x8080808080808080; stop != 0 && b == op.valByte {
					pos += bits.TrailingZeros64(stop)>>3 + 2
					continue
				}
			}
		case skipNullBytes:
			if pos < end-1 {
				b := at(pos)
				if b == op.nullByte {
					pos++
					continue
				}
				if n := at(pos + 1); b == op.valByte && n < 0x80 && n&1 == 0 && end-pos-2 >= int(n>>1) {
					pos += 2 + int(n>>1)
					continue
				}
			}
		case skipNull:
			if pos < end {
				if b := at(pos); b == op.nullByte || b == op.valByte {
					pos++
					continue
				}
			}
		case skipMark:
			marks[op.n] = uint32(pos)
			continue
		}
		if pos = p.slow(r, op, pos); pos < 0 {
			return
		}
	}
	r.pos = pos
}

// slow skips one field the way the fast paths of run do not: any encoding, at
// the end of the block, and with the errors of bad data. It returns the position
// after the field, or -1 after failing r.
func (p *skipProgram) slow(r *reader, op skipOp, pos int) int {
	buf := r.buf
	if op.kind >= skipNullFixed {
		if pos >= len(buf) {
			r.fail(errShort)
			return -1
		}
		b := buf[pos]
		pos++
		if b == op.nullByte || op.kind == skipNull && b == op.valByte {
			return pos
		}
		if b != op.valByte || op.kind == skipNull {
			r.fail(errBranch)
			return -1
		}
		op.kind -= skipNullFixed - skipFixed // the value itself
	}
	switch op.kind {
	case skipFixed:
		if len(buf)-pos < int(op.n) {
			r.fail(errShort)
			return -1
		}
		return pos + int(op.n)
	case skipVarint:
		if pos = skipVarintAt(buf, pos); pos < 0 {
			r.fail(skipError(pos))
			return -1
		}
		return pos
	case skipBytes:
		if pos = skipBytesAt(buf, pos); pos < 0 {
			r.fail(skipError(pos))
			return -1
		}
		return pos
	}
	r.pos = pos
	p.calls[op.n](r)
	if r.err != nil {
		return -1
	}
	return r.pos
}

// varintLen is the length of the varint x starts with, if it ends within x.
func varintLen(x uint64) (int, bool) {
	stop := ^x & 0x8080808080808080
	return bits.TrailingZeros64(stop)>>3 + 1, stop != 0
}

// b2i is 1 for true: compiled to a SETcc, not a branch.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

var errBranch = errors.New("union branch index out of range for a 2-branch union")

// skipBytesAt returns the position after the length-prefixed bytes at pos, or a
// negative code (see skipError).
func skipBytesAt(buf []byte, pos int) int {
	r := reader{buf: buf, pos: pos}
	n := r.long()
	switch {
	case r.err == errShort:
		return varintShort
	case r.err != nil:
		return varintBad
	case n < 0:
		return bytesNegative
	case int64(len(buf)-r.pos) < n:
		return varintShort
	}
	return r.pos + int(n)
}

// skipVarintAt returns the position after the varint at pos, or a negative code
// (see skipError) if there is no well-formed varint there.
func skipVarintAt(buf []byte, pos int) int {
	if len(buf)-pos >= 8 {
		// The varint ends at the first byte without its high bit: found in one
		// 64-bit load for the encodings of up to 8 bytes.
		x := binary.LittleEndian.Uint64(buf[pos:])
		if stop := ^x & 0x8080808080808080; stop != 0 {
			return pos + (bits.TrailingZeros64(stop)+1)/8
		}
	}
	for i := 0; i < 10; i++ {
		if pos+i >= len(buf) {
			return varintShort
		}
		if b := buf[pos+i]; b < 0x80 {
			if i == 9 && b > 1 {
				return varintBad // more than 64 bits
			}
			return pos + i + 1
		}
	}
	return varintBad
}

const (
	varintBad     = -1
	varintShort   = -2
	bytesNegative = -3
)

// skipError is the error of a negative code from skipVarintAt or skipBytesAt.
func skipError(code int) error {
	switch code {
	case varintShort:
		return errShort
	case bytesNegative:
		return errNegative
	}
	return errVarint
}
