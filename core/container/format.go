package container

import (
	"encoding/binary"
	"sort"
	"strings"
)

// The layout of an object container file (Avro specification 1.12, "Object
// Container Files"), shared by Reader and Writer:
//
//	header: Magic, metadata (an Avro map<bytes>), sync marker (SyncSize bytes)
//	block:  record count (long), data size (long), data, sync marker
//
// longs are zigzag varints; a map is a sequence of blocks of entries, each block
// a count (negative: followed by its size in bytes) and that many key/value
// pairs, ended by a count of 0.

// Magic starts every Avro object container file.
var Magic = [4]byte{'O', 'b', 'j', 1}

// SyncSize is the length of the sync marker.
const SyncSize = 16

// The metadata keys the format defines. Keys starting with ReservedPrefix are
// the format's own; a user may not set them.
const (
	MetaSchema     = "avro.schema"
	MetaCodec      = "avro.codec"
	ReservedPrefix = "avro."
)

// maxHeaderBytes bounds the metadata map so a corrupt header cannot make us read or
// allocate without limit. The writer refuses metadata past it, so that what it
// writes can be read.
const maxHeaderBytes = 64 << 20

// MaxHeaderBytes is the most metadata (keys and values) a header may hold.
const MaxHeaderBytes = maxHeaderBytes

// AppendHeader appends a file header to dst: Magic, the metadata map in one
// block (avro.schema and avro.codec first, then the other keys in sorted order,
// so that the same input always gives the same bytes) and the sync marker.
func AppendHeader(dst []byte, meta map[string][]byte, sync [SyncSize]byte) []byte {
	dst = append(dst, Magic[:]...)
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	rank := func(k string) int {
		switch k {
		case MetaSchema:
			return 0
		case MetaCodec:
			return 1
		}
		return 2
	}
	sort.Slice(keys, func(i, j int) bool {
		if ri, rj := rank(keys[i]), rank(keys[j]); ri != rj {
			return ri < rj
		}
		return strings.Compare(keys[i], keys[j]) < 0
	})
	if len(keys) > 0 {
		dst = binary.AppendVarint(dst, int64(len(keys)))
		for _, k := range keys {
			dst = binary.AppendVarint(dst, int64(len(k)))
			dst = append(dst, k...)
			dst = binary.AppendVarint(dst, int64(len(meta[k])))
			dst = append(dst, meta[k]...)
		}
	}
	dst = binary.AppendVarint(dst, 0)
	return append(dst, sync[:]...)
}

// AppendBlockHeader appends the start of a block: its record count and the size
// of its (compressed) data. The data and the sync marker follow.
func AppendBlockHeader(dst []byte, count int64, size int) []byte {
	dst = binary.AppendVarint(dst, count)
	return binary.AppendVarint(dst, int64(size))
}
