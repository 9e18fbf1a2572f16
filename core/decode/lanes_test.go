package decode

import (
	"fmt"
	"math/rand"
	"testing"
)

// randomProgram is a program of n ops of every kind, with nullable ops of both
// branch orders, calls that skip a varint, and marks into nmarks slots.
func randomProgram(rng *rand.Rand, n, nmarks int) *skipProgram {
	p := &skipProgram{calls: []func(*reader){func(r *reader) { r.long() }}}
	for len(p.ops) < n {
		op := skipOp{kind: skipKind(rng.Intn(int(skipMark) + 1))}
		switch op.kind {
		case skipFixed, skipNullFixed:
			op.n = int32(1 + rng.Intn(12))
		case skipCall:
			op.n = 0
		case skipMark:
			op.n = int32(rng.Intn(nmarks))
		}
		if op.kind >= skipNullFixed && op.kind <= skipNull {
			op.nullByte, op.valByte = 0, 2
			if rng.Intn(2) == 0 {
				op.nullByte, op.valByte = 2, 0
			}
		}
		p.ops = append(p.ops, op)
	}
	p.setSpan()
	return p
}

// randomBytes favours the bytes the fast paths branch on: branch indexes,
// short and long lengths, varint continuation bytes, values that are neither.
func randomBytes(rng *rand.Rand, n int) []byte {
	alphabet := []byte{0, 2, 0, 2, 4, 6, 0x7e, 0x80, 0x81, 0xff, 1, 3}
	b := make([]byte, n)
	for i := range b {
		if rng.Intn(4) == 0 {
			b[i] = byte(rng.Intn(256))
		} else {
			b[i] = alphabet[rng.Intn(len(alphabet))]
		}
	}
	return b
}

// run4fast (assembly on amd64) does exactly what run4 does: the same result,
// positions, marks and errors, for every kind of op, on valid and invalid data,
// up to the ends of the blocks.
func TestRun4FastMatchesRun4(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	const nmarks = 6
	outcomes := map[string]int{}
	for c := 0; c < 20000; c++ {
		p := randomProgram(rng, 1+rng.Intn(24), nmarks)
		if !asmLanes(p.ops) && p.asm {
			t.Fatal("asm set for a program asmLanes rejects")
		}
		var data [4][]byte
		var start [4]int
		for k := range data {
			// At least span bytes left, as run4 requires; some no more.
			start[k] = rng.Intn(8)
			data[k] = randomBytes(rng, start[k]+p.span+rng.Intn(3)*rng.Intn(64))
		}
		want := compareRun4(t, p, data, start, nmarks)
		switch {
		case want < 0:
			outcomes["failed"]++
		case want < len(p.ops):
			outcomes["stopped early"]++
		default:
			outcomes["ran through"]++
		}
	}
	// The cases reach every outcome, often.
	for _, o := range []string{"failed", "stopped early", "ran through"} {
		if outcomes[o] < 500 {
			t.Errorf("only %d cases %s: %v", outcomes[o], o, outcomes)
		}
	}
}

// compareRun4 runs run4 and run4fast on the same four lanes and fails t unless
// they agree on everything; it returns run4's result.
func compareRun4(t *testing.T, p *skipProgram, data [4][]byte, start [4]int, nmarks int) int {
	t.Helper()
	var ref, got [4]*reader
	var refMarks, gotMarks [4][]uint32
	for k := range ref {
		ref[k] = &reader{buf: data[k], pos: start[k], empty: maxEmptyItems}
		got[k] = &reader{buf: data[k], pos: start[k], empty: maxEmptyItems}
		refMarks[k] = make([]uint32, nmarks)
		gotMarks[k] = make([]uint32, nmarks)
	}
	want := p.run4(ref[0], ref[1], ref[2], ref[3], &refMarks)
	have := p.run4fast(got[0], got[1], got[2], got[3], &gotMarks)
	if have != want {
		for k := range ref {
			t.Logf("lane %d: %x from %d; run4 to %d, %v; run4fast to %d, %v", k, data[k][:min(len(data[k]), 24)], start[k], ref[k].pos, ref[k].err, got[k].pos, got[k].err)
		}
		t.Fatalf("program %v: run4fast returned %d, run4 %d", p.ops, have, want)
	}
	for k := range ref {
		if want >= 0 && (got[k].pos != ref[k].pos || fmt.Sprint(gotMarks[k]) != fmt.Sprint(refMarks[k])) {
			t.Fatalf("program %v, lane %d: at %d marks %v; run4 at %d marks %v", p.ops, k, got[k].pos, gotMarks[k], ref[k].pos, refMarks[k])
		}
		if fmt.Sprint(got[k].err) != fmt.Sprint(ref[k].err) {
			t.Fatalf("program %v, lane %d: error %v, run4 %v", p.ops, k, got[k].err, ref[k].err)
		}
	}
	return want
}

// FuzzLanes: run4fast and run4 agree on any program (drawn from seed) over
// any bytes.
//
//	go test -run '^$' -fuzz FuzzLanes ./core/decode
func FuzzLanes(f *testing.F) {
	f.Add(int64(1), []byte{0, 2, 0x80, 1, 2, 3})
	f.Add(int64(1084), []byte{0x06, 0x02, 0xff, 0x80, 0x7e, 0x61, 0x80, 0, 0, 0})
	f.Fuzz(func(t *testing.T, seed int64, in []byte) {
		p := randomProgram(rand.New(rand.NewSource(seed)), 1+int(uint64(seed)%24), 4)
		var data [4][]byte
		var start [4]int
		for k := range data {
			// Each lane starts k bytes into the input, padded to span.
			b := append([]byte(nil), in[min(k, len(in)):]...)
			data[k] = append(b, make([]byte, max(0, p.span-len(b)))...)
		}
		compareRun4(t, p, data, start, 4)
	})
}
