package main

/*
#include <stdlib.h>
*/
import "C"

import (
	"context"

	"github.com/jetliner/jetliner/core/scan"
)

// jl_count frames the blocks of every file the options' sources name and
// replies {"files": [{"path", "blocks", "records", "bytes"}, ...]} with the record
// counts the block headers declare. It decompresses and decodes nothing; the
// options are those of jl_scan_open (only sources, glob, storage_options,
// read_chunk_size and max_block_size matter).
//
//export jl_count
func jl_count(optionsJSON *C.char) (out *C.char) {
	defer guard(&out)
	syncEnviron()
	opts, err := parseOptions([]byte(C.GoString(optionsJSON)))
	if err != nil {
		return reply(nil, err)
	}
	files, err := scan.Count(context.Background(), opts)
	if err != nil {
		return reply(nil, err)
	}
	return reply(map[string]any{"files": files}, nil)
}
