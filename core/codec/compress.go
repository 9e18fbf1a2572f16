package codec

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"

	dsbzip2 "github.com/dsnet/compress/bzip2"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// Compress compresses src with the named codec in Avro's block format (snappy
// includes the CRC trailer). It exists for tests and fuzz seeds across the
// repository, not for speed: every call sets up a new encoder. bzip2 uses
// github.com/dsnet/compress because the standard library cannot compress bzip2.
func Compress(name string, src []byte) ([]byte, error) {
	switch c := canonical(name); c {
	case "null":
		return bytes.Clone(src), nil
	case "deflate":
		var b bytes.Buffer
		w, err := flate.NewWriter(&b, flate.DefaultCompression)
		if err != nil {
			return nil, err
		}
		return closeWrite(&b, w, src, c)
	case "snappy":
		out := snappy.Encode(nil, src)
		return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(src)), nil
	case "zstandard":
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
		if err != nil {
			return nil, err
		}
		defer enc.Close()
		return enc.EncodeAll(src, nil), nil
	case "bzip2":
		var b bytes.Buffer
		w, err := dsbzip2.NewWriter(&b, &dsbzip2.WriterConfig{Level: dsbzip2.DefaultCompression})
		if err != nil {
			return nil, err
		}
		return closeWrite(&b, w, src, c)
	case "xz":
		var b bytes.Buffer
		w, err := xz.NewWriter(&b)
		if err != nil {
			return nil, err
		}
		return closeWrite(&b, w, src, c)
	}
	_, err := New(name)
	return nil, err
}

type writeCloser interface {
	Write([]byte) (int, error)
	Close() error
}

func closeWrite(b *bytes.Buffer, w writeCloser, src []byte, codec string) ([]byte, error) {
	if _, err := w.Write(src); err != nil {
		return nil, fmt.Errorf("%s: compress: %w", codec, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("%s: compress: %w", codec, err)
	}
	return b.Bytes(), nil
}
