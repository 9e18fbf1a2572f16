package decode

import (
	"encoding/binary"
	"math/bits"

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
)

// skipOp is one instruction. It is kept small (8 bytes) so that a whole
// program sits in a few cache lines.
type skipOp struct {
	kind skipKind
	// For the skipNull* kinds: the one-byte encodings of the two branch indexes.
	nullByte, valByte byte
	n                 int32 // skipFixed: bytes; skipCall: index into calls
}

type skipProgram struct {
	ops   []skipOp
	calls []func(*reader)
}

// compileSkips builds the program that skips one value of each of nodes, in order.
func compileSkips(nodes []*schema.Node) *skipProgram {
	p := &skipProgram{}
	for _, n := range nodes {
		p.add(n)
	}
	return p
}

func (p *skipProgram) add(n *schema.Node) {
	op := skipOp{kind: skipCall}
	switch n.Kind {
	case schema.Null:
		op.kind = skipNull
	case schema.Boolean:
		op.kind, op.n = skipFixed, 1
	case schema.Float:
		op.kind, op.n = skipFixed, 4
	case schema.Double:
		op.kind, op.n = skipFixed, 8
	case schema.Fixed:
		op.kind, op.n = skipFixed, int32(n.Size)
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
	case op.kind == skipCall || n.SingleUnion || n.Kind == schema.Fixed && n.Size > 1<<30:
		op = skipOp{kind: skipCall, n: int32(len(p.calls))}
		p.calls = append(p.calls, skipperFor(n))
	case n.Nullable:
		op.nullByte, op.valByte = byte(2*n.NullIndex), byte(2*(1-n.NullIndex))
		switch op.kind {
		case skipFixed:
			op.kind = skipNullFixed
		case skipVarint:
			op.kind = skipNullVarint
		case skipBytes:
			op.kind = skipNullBytes
		}
	case op.kind == skipNull:
		return // a plain null takes no bytes
	}
	if last := len(p.ops) - 1; op.kind == skipFixed && last >= 0 && p.ops[last].kind == skipFixed &&
		int64(p.ops[last].n)+int64(op.n) <= 1<<30 {
		p.ops[last].n += op.n
		return
	}
	p.ops = append(p.ops, op)
}

// run skips one value of each field of the program.
func (p *skipProgram) run(r *reader) {
	buf := r.buf
	pos := r.pos
	for i := range p.ops {
		op := p.ops[i]
		switch op.kind {
		case skipNullFixed, skipNullVarint, skipNullBytes, skipNull:
			if pos >= len(buf) {
				r.fail(errShort)
				return
			}
			b := buf[pos]
			pos++
			if b == op.nullByte || op.kind == skipNull {
				if b != op.nullByte && b != op.valByte {
					r.failf("union branch index out of range for a 2-branch union")
					return
				}
				continue
			}
			if b != op.valByte {
				r.failf("union branch index out of range for a 2-branch union")
				return
			}
			op.kind -= skipNullFixed - skipFixed // the value itself
		}
		switch op.kind {
		case skipFixed:
			if len(buf)-pos < int(op.n) {
				r.fail(errShort)
				return
			}
			pos += int(op.n)
		case skipVarint:
			if len(buf)-pos >= 8 {
				// The varint ends at the first byte without its high bit: found
				// in one 64-bit load for the encodings of up to 8 bytes.
				x := binary.LittleEndian.Uint64(buf[pos:])
				if stop := ^x & 0x8080808080808080; stop != 0 {
					pos += (bits.TrailingZeros64(stop) + 1) >> 3
					continue
				}
			}
			next := skipVarintAt(buf, pos)
			if next < 0 {
				r.fail(varintError(next))
				return
			}
			pos = next
		case skipBytes:
			// Lengths below 64 take one byte: by far the most common case.
			if pos < len(buf) && buf[pos] < 0x80 && buf[pos]&1 == 0 {
				n := int(buf[pos] >> 1)
				if len(buf)-pos-1 < n {
					r.fail(errShort)
					return
				}
				pos += 1 + n
				continue
			}
			r.pos = pos
			n := r.long()
			if r.err != nil {
				return
			}
			if n < 0 {
				r.fail(errNegative)
				return
			}
			if int64(len(buf)-r.pos) < n {
				r.fail(errShort)
				return
			}
			pos = r.pos + int(n)
		case skipCall:
			r.pos = pos
			p.calls[op.n](r)
			if r.err != nil {
				return
			}
			pos = r.pos
		}
	}
	r.pos = pos
}

// skipVarintAt returns the position after the varint at pos, or a negative code
// (see varintError) if there is no well-formed varint there.
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
	varintBad   = -1
	varintShort = -2
)

func varintError(code int) error {
	if code == varintShort {
		return errShort
	}
	return errVarint
}
