package codec

import (
	"bytes"
	"errors"
	"testing"
)

// TestCompressorsRoundTrip compresses every input at every level of every codec
// with one reused Compressor and reads it back with the matching Decompressor.
func TestCompressorsRoundTrip(t *testing.T) {
	inputs := testInputs()
	delete(inputs, "mixed") // 1 MiB at every level of bzip2 and zstd is slow; "random" covers it
	for _, name := range Names() {
		levels := []int{NoLevel}
		if lv := LevelsOf(name); lv != nil {
			levels = append(levels, lv.Min, lv.Default, lv.Max)
		}
		for _, level := range levels {
			c, err := NewCompressor(name, level)
			if err != nil {
				t.Fatalf("%s level %d: %v", name, level, err)
			}
			if c.Name() != name {
				t.Fatalf("Name() = %q, want %q", c.Name(), name)
			}
			d := mustNew(t, name)
			var buf, out []byte
			for what, src := range inputs {
				if buf, err = c.Compress(buf, src); err != nil {
					t.Fatalf("%s level %d %s: %v", name, level, what, err)
				}
				if out, err = d.Decompress(out, buf, -1); err != nil {
					t.Fatalf("%s level %d %s: decompress: %v", name, level, what, err)
				}
				if !bytes.Equal(out, src) {
					t.Fatalf("%s level %d %s: round trip differs", name, level, what)
				}
			}
		}
	}
}

func TestCompressorLevels(t *testing.T) {
	for _, tc := range []struct {
		name  string
		level int
		ok    bool
	}{
		{"deflate", 0, true}, {"deflate", 9, true}, {"deflate", 10, false}, {"deflate", -1, false},
		{"zstd", 1, true}, {"zstandard", 22, true}, {"zstandard", 0, false}, {"zstandard", 23, false},
		{"bzip2", 1, true}, {"bzip2", 9, true}, {"bzip2", 0, false},
		{"snappy", 1, false}, {"null", 0, false}, {"xz", 6, false},
		{"snappy", NoLevel, true}, {"xz", NoLevel, true}, {"", NoLevel, true},
	} {
		_, err := NewCompressor(tc.name, tc.level)
		if (err == nil) != tc.ok {
			t.Errorf("%s level %d: err = %v, want ok=%v", tc.name, tc.level, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrLevel) {
			t.Errorf("%s level %d: %v does not wrap ErrLevel", tc.name, tc.level, err)
		}
	}
	if _, err := NewCompressor("lz4", NoLevel); !errors.Is(err, ErrUnknown) {
		t.Errorf("lz4: %v, want ErrUnknown", err)
	}
}

// TestCompressLevelsDiffer checks the level reaches the encoder: the best level
// of each codec is smaller than its fastest on compressible data.
func TestCompressLevelsDiffer(t *testing.T) {
	src := mixedData(256<<10, 3)
	for _, name := range []string{"deflate", "zstandard", "bzip2"} {
		lv := LevelsOf(name)
		lo, _ := NewCompressor(name, max(lv.Min, 1))
		hi, _ := NewCompressor(name, lv.Max)
		a, _ := lo.Compress(nil, src)
		b, _ := hi.Compress(nil, src)
		if len(b) >= len(a) && name != "bzip2" {
			t.Errorf("%s: level %d gives %d bytes, level %d %d", name, lv.Max, len(b), max(lv.Min, 1), len(a))
		}
	}
}
