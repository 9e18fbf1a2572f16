package codec

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"hash/crc64"

	"github.com/ulikunitz/xz/lzma"
)

// The xz container (https://tukaani.org/xz/xz-file-format.txt) is parsed here and
// only the LZMA2 data is left to github.com/ulikunitz/xz/lzma. The package's own
// xz.Reader allocates whatever dictionary a block header asks for, up to 4 GiB
// from a few bytes of input, and learns a block's size only by decoding it;
// parsing the headers ourselves, down to LZMA2's chunk headers, gives each block's
// size before any decoding, which refuses bombs at once and caps the dictionary
// at the block's output (a match cannot reach back past the start of the block,
// so a larger dictionary is never used).

const (
	xzHeaderMagic = "\xfd7zXZ\x00"
	xzFooterMagic = "YZ"
	xzHeaderLen   = 12
	xzFooterLen   = 12
	xzFilterLZMA2 = 0x21
)

var crc64Table = crc64.MakeTable(crc64.ECMA)

// xzDecompressor implements the xz codec: one or more xz streams, each holding
// one or more blocks compressed with a single LZMA2 filter.
type xzDecompressor struct {
	drain
	src     bytes.Reader
	records []xzRecord // the blocks of the current stream, checked against its index
}

// xzRecord is an index record: what a block's header and data added up to.
type xzRecord struct {
	unpadded, uncompressed uint64
}

func (*xzDecompressor) Name() string { return "xz" }

func (d *xzDecompressor) Decompress(dst, src []byte, limit int64) ([]byte, error) {
	if len(src) == 0 {
		return dst[:0], corrupt("xz", "empty block")
	}
	defer d.src.Reset(nil)
	out := dst[:0]
	for pos := 0; pos < len(src); {
		n, err := d.stream(&out, src[pos:], limit)
		if err != nil {
			return dst[:0], err
		}
		pos += n
		// Stream padding: null bytes, a multiple of four, before the next stream.
		pad := 0
		for pos+pad < len(src) && src[pos+pad] == 0 {
			pad++
		}
		if pad%4 != 0 {
			return dst[:0], corrupt("xz", "stream padding of %d bytes is not a multiple of four", pad)
		}
		pos += pad
	}
	return out, nil
}

// stream decodes the xz stream at the start of s, appending its data to *out, and
// returns the number of bytes the stream took.
func (d *xzDecompressor) stream(out *[]byte, s []byte, limit int64) (int, error) {
	if len(s) < xzHeaderLen+xzFooterLen {
		return 0, corrupt("xz", "truncated stream of %d bytes", len(s))
	}
	if string(s[:6]) != xzHeaderMagic {
		return 0, corrupt("xz", "bad stream header magic")
	}
	flags := s[6:8]
	if crc32.ChecksumIEEE(flags) != binary.LittleEndian.Uint32(s[8:12]) {
		return 0, corrupt("xz", "stream header CRC mismatch")
	}
	if flags[0] != 0 || flags[1]&0xf0 != 0 {
		return 0, corrupt("xz", "unsupported stream flags %#02x%02x", flags[0], flags[1])
	}
	check := flags[1]
	var checkLen int
	switch check {
	case 0x00: // none
	case 0x01: // CRC-32
		checkLen = 4
	case 0x04: // CRC-64
		checkLen = 8
	case 0x0a: // SHA-256
		checkLen = 32
	default:
		return 0, corrupt("xz", "unsupported check type %#x", check)
	}

	pos := xzHeaderLen
	d.records = d.records[:0]
	for {
		if pos >= len(s) {
			return 0, corrupt("xz", "truncated stream")
		}
		if s[pos] == 0 { // the index indicator ends the blocks
			break
		}
		n, rec, err := d.block(out, s[pos:], check, checkLen, limit)
		if err != nil {
			return 0, err
		}
		d.records = append(d.records, rec)
		pos += n
	}

	n, err := d.index(s[pos:])
	if err != nil {
		return 0, err
	}
	indexLen := n
	pos += n

	if len(s)-pos < xzFooterLen {
		return 0, corrupt("xz", "truncated stream footer")
	}
	f := s[pos : pos+xzFooterLen]
	if crc32.ChecksumIEEE(f[4:10]) != binary.LittleEndian.Uint32(f[:4]) {
		return 0, corrupt("xz", "stream footer CRC mismatch")
	}
	if backward := (uint64(binary.LittleEndian.Uint32(f[4:8])) + 1) * 4; backward != uint64(indexLen) {
		return 0, corrupt("xz", "stream footer gives an index of %d bytes, found %d", backward, indexLen)
	}
	if !bytes.Equal(f[8:10], flags) {
		return 0, corrupt("xz", "stream footer flags differ from the header")
	}
	if string(f[10:12]) != xzFooterMagic {
		return 0, corrupt("xz", "bad stream footer magic")
	}
	return pos + xzFooterLen, nil
}

// block decodes the block at the start of s, appending its data to *out, and
// returns the number of bytes the block took and its index record.
func (d *xzDecompressor) block(out *[]byte, s []byte, check byte, checkLen int, limit int64) (int, xzRecord, error) {
	var rec xzRecord
	headerLen := (int(s[0]) + 1) * 4
	if len(s) < headerLen {
		return 0, rec, corrupt("xz", "truncated block header")
	}
	h := s[:headerLen]
	if crc32.ChecksumIEEE(h[:headerLen-4]) != binary.LittleEndian.Uint32(h[headerLen-4:]) {
		return 0, rec, corrupt("xz", "block header CRC mismatch")
	}
	flags := h[1]
	if flags&0x3c != 0 {
		return 0, rec, corrupt("xz", "reserved block header flags %#02x", flags)
	}
	if flags&0x03 != 0 {
		return 0, rec, corrupt("xz", "%d filters in a block; only a single LZMA2 filter is supported", flags&0x03+1)
	}
	fields := h[2 : headerLen-4]
	compressedSize, uncompressedSize := int64(-1), int64(-1)
	if flags&0x40 != 0 {
		v, n := xzUvarint(fields)
		if n == 0 || v == 0 || v > 1<<62 {
			return 0, rec, corrupt("xz", "bad compressed size in block header")
		}
		compressedSize, fields = int64(v), fields[n:]
	}
	if flags&0x80 != 0 {
		v, n := xzUvarint(fields)
		if n == 0 || v > 1<<62 {
			return 0, rec, corrupt("xz", "bad uncompressed size in block header")
		}
		uncompressedSize, fields = int64(v), fields[n:]
	}
	id, n := xzUvarint(fields)
	if n == 0 || id != xzFilterLZMA2 {
		return 0, rec, corrupt("xz", "unsupported filter %#x; only LZMA2 is supported", id)
	}
	fields = fields[n:]
	size, n := xzUvarint(fields)
	if n == 0 || size != 1 || len(fields) < n+1 {
		return 0, rec, corrupt("xz", "bad LZMA2 filter properties")
	}
	fields = fields[n:]
	dictCap, err := lzma.DecodeDictCap(fields[0])
	if err != nil {
		return 0, rec, corruptErr("xz", err)
	}
	for _, b := range fields[1:] {
		if b != 0 {
			return 0, rec, corrupt("xz", "nonzero block header padding")
		}
	}

	data := s[headerLen:]
	if compressedSize >= 0 && compressedSize < int64(len(data)) {
		data = data[:compressedSize]
	}
	// The LZMA2 chunk headers state how much each chunk yields, so the block's
	// size is known before anything is decoded: a bomb is refused at once, and
	// the dictionary, which no match can use beyond the block's own output, is
	// allocated no larger than that output, whatever the header asks for.
	packed, outLen, err := lzma2Size(data)
	if err != nil {
		return 0, rec, err
	}
	if uncompressedSize >= 0 && uncompressedSize != outLen {
		return 0, rec, corrupt("xz", "block's chunks hold %d bytes, its header says %d", outLen, uncompressedSize)
	}
	start := int64(len(*out))
	if limit >= 0 && outLen > limit-start {
		return 0, rec, tooLarge("xz", limit)
	}
	dictCap = max(min(dictCap, outLen), lzma.MinDictCap)

	d.src.Reset(data[:packed])
	r, err := lzma.Reader2Config{DictCap: int(dictCap)}.NewReader2(&d.src)
	if err != nil {
		return 0, rec, corruptErr("xz", err)
	}
	*out, err = d.readAppend(*out, r, start+outLen, int(outLen))
	switch {
	case err == errLimit:
		return 0, rec, corrupt("xz", "block yields more than its chunks state")
	case err != nil:
		return 0, rec, corruptErr("xz", err)
	}
	used := packed - d.src.Len()
	written := (*out)[start:]
	if used != packed || int64(len(written)) != outLen {
		return 0, rec, corrupt("xz", "block's LZMA2 data disagrees with its chunk headers")
	}
	if compressedSize >= 0 && int64(used) != compressedSize {
		return 0, rec, corrupt("xz", "block has %d bytes of compressed data, its header says %d", used, compressedSize)
	}

	// Block padding brings the block to a multiple of four bytes; the check follows.
	pos := headerLen + used
	pad := (4 - used%4) % 4
	if len(s)-pos < pad+checkLen {
		return 0, rec, corrupt("xz", "truncated block")
	}
	for _, b := range s[pos : pos+pad] {
		if b != 0 {
			return 0, rec, corrupt("xz", "nonzero block padding")
		}
	}
	pos += pad
	stored := s[pos : pos+checkLen]
	switch check {
	case 0x01:
		if crc32.ChecksumIEEE(written) != binary.LittleEndian.Uint32(stored) {
			return 0, rec, corrupt("xz", "block CRC-32 mismatch")
		}
	case 0x04:
		if crc64.Checksum(written, crc64Table) != binary.LittleEndian.Uint64(stored) {
			return 0, rec, corrupt("xz", "block CRC-64 mismatch")
		}
	case 0x0a:
		if sum := sha256.Sum256(written); !bytes.Equal(sum[:], stored) {
			return 0, rec, corrupt("xz", "block SHA-256 mismatch")
		}
	}
	rec = xzRecord{unpadded: uint64(headerLen + used + checkLen), uncompressed: uint64(len(written))}
	return pos + checkLen, rec, nil
}

// lzma2Size walks the chunk headers of the LZMA2 data at the start of b and
// returns the bytes the data takes, end marker included, and the bytes it
// decodes to. Each chunk's header gives both its packed and its unpacked size,
// so this reads a few bytes per chunk (of up to 2 MiB of output) and decodes
// nothing.
func lzma2Size(b []byte) (packed int, unpacked int64, err error) {
	for pos := 0; ; {
		if pos >= len(b) {
			return 0, 0, corrupt("xz", "LZMA2 data ends without its end marker")
		}
		c := b[pos]
		var head, body int
		switch {
		case c == 0x00: // end of data
			return pos + 1, unpacked, nil
		case c == 0x01 || c == 0x02: // stored chunk: 2 bytes of size - 1
			head = 3
			if pos+head > len(b) {
				return 0, 0, corrupt("xz", "truncated LZMA2 chunk header")
			}
			body = int(binary.BigEndian.Uint16(b[pos+1:])) + 1
			unpacked += int64(body)
		case c >= 0x80: // LZMA chunk: 21 bits of unpacked size - 1, 16 of packed size - 1
			head = 5
			if c >= 0xc0 { // new properties follow
				head = 6
			}
			if pos+head > len(b) {
				return 0, 0, corrupt("xz", "truncated LZMA2 chunk header")
			}
			unpacked += int64(c&0x1f)<<16 + int64(binary.BigEndian.Uint16(b[pos+1:])) + 1
			body = int(binary.BigEndian.Uint16(b[pos+3:])) + 1
		default:
			return 0, 0, corrupt("xz", "bad LZMA2 chunk control byte %#02x", c)
		}
		pos += head + body
	}
}

// index checks the index at the start of s against the blocks decoded and returns
// its length.
func (d *xzDecompressor) index(s []byte) (int, error) {
	pos := 1 // the index indicator
	count, n := xzUvarint(s[pos:])
	if n == 0 {
		return 0, corrupt("xz", "bad index record count")
	}
	pos += n
	if count != uint64(len(d.records)) {
		return 0, corrupt("xz", "index lists %d blocks, the stream has %d", count, len(d.records))
	}
	for _, want := range d.records {
		unpadded, n := xzUvarint(s[pos:])
		if n == 0 {
			return 0, corrupt("xz", "bad index record")
		}
		pos += n
		uncompressed, n := xzUvarint(s[pos:])
		if n == 0 {
			return 0, corrupt("xz", "bad index record")
		}
		pos += n
		if (xzRecord{unpadded, uncompressed}) != want {
			return 0, corrupt("xz", "index record does not match its block")
		}
	}
	pad := (4 - pos%4) % 4
	if len(s)-pos < pad+4 {
		return 0, corrupt("xz", "truncated index")
	}
	for _, b := range s[pos : pos+pad] {
		if b != 0 {
			return 0, corrupt("xz", "nonzero index padding")
		}
	}
	pos += pad
	if crc32.ChecksumIEEE(s[:pos]) != binary.LittleEndian.Uint32(s[pos:pos+4]) {
		return 0, corrupt("xz", "index CRC mismatch")
	}
	return pos + 4, nil
}

// xzUvarint decodes the xz format's variable-length integer: at most nine bytes,
// least significant group first, with no redundant trailing zero group. It
// returns the number of bytes read, or 0 if b does not start with a valid one.
func xzUvarint(b []byte) (uint64, int) {
	var x uint64
	for i := 0; i < len(b) && i < 9; i++ {
		c := b[i]
		x |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			if c == 0 && i > 0 {
				return 0, 0
			}
			return x, i + 1
		}
	}
	return 0, 0
}
