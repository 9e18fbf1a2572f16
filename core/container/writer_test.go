package container

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/jetliner/jetliner/core/internal/avrotest"
)

// TestWriterRoundTrip writes a header and blocks and reads them back with Reader.
func TestWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{
		Schema: []byte(`"long"`), Codec: "deflate",
		Meta: map[string][]byte{"origin": []byte("test"), "empty": nil},
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.Sync == ([SyncSize]byte{}) {
		t.Fatal("sync marker is zero")
	}
	blocks := [][]byte{[]byte("abc"), {}, bytes.Repeat([]byte{7}, 1000)}
	for i, b := range blocks {
		if err := w.WriteBlock(int64(i+1), b); err != nil {
			t.Fatal(err)
		}
	}
	if w.Offset() != int64(buf.Len()) || w.Blocks() != 3 {
		t.Fatalf("Offset %d Blocks %d, wrote %d", w.Offset(), w.Blocks(), buf.Len())
	}
	rd, err := NewReader(context.Background(), avrotest.NewSource(buf.Bytes()), Options{MaxBlockSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	h := rd.Header
	if string(h.Schema) != `"long"` || h.Codec != "deflate" || string(h.Meta["origin"]) != "test" || h.Sync != w.Sync {
		t.Fatalf("header %+v", h)
	}
	if v, ok := h.Meta["empty"]; !ok || len(v) != 0 {
		t.Fatalf("empty metadata value: %q %v", v, ok)
	}
	for i, want := range blocks {
		b, _, err := rd.Next(nil)
		if err != nil {
			t.Fatal(err)
		}
		if b.Count != int64(i+1) || !bytes.Equal(b.Data, want) {
			t.Fatalf("block %d: count %d data %q", i, b.Count, b.Data)
		}
	}
	if _, _, err := rd.Next(nil); err != io.EOF {
		t.Fatalf("after the last block: %v", err)
	}
}

func TestWriterHeaderIsDeterministic(t *testing.T) {
	opts := WriterOptions{Schema: []byte(`"int"`), Sync: [SyncSize]byte{1}, Meta: map[string][]byte{"b": {1}, "a": {2}, "c": {3}}}
	var a, b bytes.Buffer
	if _, err := NewWriter(&a, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(&b, opts); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same header twice gives different bytes")
	}
	if i, j := bytes.Index(a.Bytes(), []byte("avro.schema")), bytes.Index(a.Bytes(), []byte("\x02a")); i < 0 || j < i {
		t.Fatalf("avro.schema at %d, user key a at %d", i, j)
	}
}

func TestWriterRefuses(t *testing.T) {
	var buf bytes.Buffer
	if _, err := NewWriter(&buf, WriterOptions{Schema: []byte(`"int"`), Meta: map[string][]byte{"avro.codec": []byte("x")}}); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Fatalf("reserved key: %v", err)
	}
	if _, err := NewWriter(&buf, WriterOptions{}); err == nil {
		t.Fatal("no schema: no error")
	}
	big := map[string][]byte{"big": make([]byte, MaxHeaderBytes)}
	if _, err := NewWriter(&buf, WriterOptions{Schema: []byte(`"int"`), Meta: big}); err == nil {
		t.Fatal("oversized metadata: no error")
	}
}

type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n < len(p) {
		n := f.n
		f.n = 0
		return n, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

// TestWriterKeepsFirstError: after a failed write every call returns that error.
func TestWriterKeepsFirstError(t *testing.T) {
	w, err := NewWriter(&failAfter{n: 200}, WriterOptions{Schema: []byte(`"int"`)})
	if err != nil {
		t.Fatal(err)
	}
	if err = w.WriteBlock(1, make([]byte, 500)); err == nil || err.Error() != "disk full" {
		t.Fatalf("first failure: %v", err)
	}
	if err2 := w.WriteBlock(1, []byte{1}); err2 != err || w.Err() != err {
		t.Fatalf("later call: %v", err2)
	}
}
