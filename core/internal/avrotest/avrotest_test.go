package avrotest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/jetliner/jetliner/core/codec"
)

// The encoder agrees with an independent implementation, hamba/avro.
func TestEncodeMatchesHamba(t *testing.T) {
	schema := avro.MustParse(`{"type":"record","name":"r","fields":[
		{"name":"l","type":"long"},{"name":"i","type":"int"},{"name":"s","type":"string"},{"name":"b","type":"bytes"},
		{"name":"d","type":"double"},{"name":"f","type":"float"},{"name":"t","type":"boolean"},{"name":"n","type":"null"},
		{"name":"u","type":["null","string"]},{"name":"a","type":{"type":"array","items":"int"}},
		{"name":"m","type":{"type":"map","values":"long"}},{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
		{"name":"x","type":{"type":"fixed","name":"F","size":3}}]}`)
	value := map[string]any{
		"l": int64(-1234567890123), "i": 42, "s": "héllo", "b": []byte{0, 1, 2}, "d": 2.5, "f": float32(-1.25), "t": true,
		"n": nil, "u": "x", "a": []int{1, -2, 300}, "m": map[string]int64{"k": 7}, "e": "B", "x": [3]byte{9, 8, 7},
	}
	want, err := avro.Marshal(schema, value)
	if err != nil {
		t.Fatal(err)
	}
	got := Encode(nil, int64(-1234567890123), int32(42), "héllo", []byte{0, 1, 2}, 2.5, float32(-1.25), true, nil,
		U(1, "x"), Array{Items: []any{int32(1), int32(-2), int32(300)}, Sized: true}, // hamba writes sized blocks
		Map{Entries: []KV{{Key: "k", Value: int64(7)}}, Sized: true}, Enum(1), Fixed{9, 8, 7})
	if !bytes.Equal(got, want) {
		t.Errorf("Encode:\n got %x\nwant %x", got, want)
	}
}

func TestBlocking(t *testing.T) {
	got := Encode(nil, Array{Items: []any{1, 2, 3}, BlockLen: 2, Sized: true})
	want := []byte{3, 4, 2, 4, 1, 2, 6, 0} // -2 items, 2 bytes: 1, 2; -1 item, 1 byte: 3; end
	if !bytes.Equal(got, want) {
		t.Errorf("sized array %v, want %v", got, want)
	}
	if got := Encode(nil, Map{}); !bytes.Equal(got, []byte{0}) {
		t.Errorf("empty map %v", got)
	}
}

func TestBuildAndSource(t *testing.T) {
	f := MustBuild(t, File{Schema: `"long"`, Codec: "deflate", Blocks: []Block{Longs(0, 3), Longs(3, 2)}})
	if !bytes.HasPrefix(f.Bytes, []byte("Obj\x01")) || len(f.Blocks) != 2 || f.Blocks[1].End != len(f.Bytes) {
		t.Fatalf("layout %+v", f.Blocks)
	}
	p := f.Blocks[0]
	if !bytes.Equal(f.Bytes[p.SyncOffset:p.End], DefaultSync[:]) || p.End != f.Blocks[1].Offset {
		t.Errorf("block 0 at %+v", p)
	}
	d, _ := codec.New("deflate")
	raw, err := d.Decompress(nil, f.Bytes[p.DataOffset:p.DataOffset+p.DataLen], -1)
	if err != nil || !bytes.Equal(raw, Longs(0, 3).Data) {
		t.Errorf("block 0 data %v, %v", raw, err)
	}
	if c := f.BreakSync(1); bytes.Equal(c, f.Bytes) || len(c) != len(f.Bytes) {
		t.Error("BreakSync")
	}

	src := NewSource([]byte("abc"))
	buf := make([]byte, 2)
	if n, err := src.ReadAt(context.Background(), buf, 2); n != 1 || !errors.Is(err, io.EOF) {
		t.Errorf("short ReadAt: %d, %v", n, err)
	}
}
