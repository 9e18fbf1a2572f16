package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/jetliner/jetliner/core/jerr"
	"github.com/jetliner/jetliner/core/scan"
)

// wireOptions is the JSON the Python package sends: API.md's option names. Pointer
// fields tell "not given" from zero values.
type wireOptions struct {
	Sources          []string          `json:"sources"`
	Glob             *bool             `json:"glob"`
	Columns          []string          `json:"columns"`
	NRows            *int64            `json:"n_rows"`
	RowIndexName     *string           `json:"row_index_name"`
	RowIndexOffset   *int64            `json:"row_index_offset"`
	RowIndexType     *string           `json:"row_index_type"`
	IncludeFilePaths *string           `json:"include_file_paths"`
	IgnoreErrors     *bool             `json:"ignore_errors"`
	BatchSize        *int              `json:"batch_size"`
	BufferBlocks     *int              `json:"buffer_blocks"`
	BufferBytes      *int64            `json:"buffer_bytes"`
	ReadChunkSize    *int              `json:"read_chunk_size"`
	MaxBlockSize     *int64            `json:"max_block_size"`
	StorageOptions   map[string]string `json:"storage_options"`
	Workers          *int              `json:"workers"`
	MaxSchemaDepth   *int              `json:"max_schema_depth"`
}

func parseOptions(text []byte) (scan.Options, error) {
	var w wireOptions
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		// A number that does not fit the field (batch_size=2**70) is said in the
		// option's words, not as a Go struct field.
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return scan.Options{}, jerr.New(jerr.Config, "option %s cannot be %s: out of range or of the wrong type", te.Field, te.Value)
		}
		return scan.Options{}, jerr.Wrap(jerr.Config, err, "bad options")
	}
	o := scan.DefaultOptions()
	o.Sources = w.Sources
	o.Columns = w.Columns
	set(&o.Glob, w.Glob)
	set(&o.NRows, w.NRows)
	set(&o.RowIndexName, w.RowIndexName)
	set(&o.RowIndexOffset, w.RowIndexOffset)
	set(&o.RowIndexType, w.RowIndexType)
	set(&o.IncludeFilePaths, w.IncludeFilePaths)
	set(&o.IgnoreErrors, w.IgnoreErrors)
	set(&o.BatchSize, w.BatchSize)
	set(&o.BufferBlocks, w.BufferBlocks)
	set(&o.BufferBytes, w.BufferBytes)
	set(&o.ReadChunkSize, w.ReadChunkSize)
	set(&o.MaxBlockSize, w.MaxBlockSize)
	set(&o.Workers, w.Workers)
	set(&o.MaxSchemaDepth, w.MaxSchemaDepth)
	if o.NRows < -1 {
		return o, jerr.New(jerr.Config, "n_rows must be non-negative, got %d", o.NRows)
	}
	if err := checkStorage(w.StorageOptions); err != nil {
		return o, err
	}
	o.Storage = w.StorageOptions
	return o, nil
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// storageKeys are the storage_options keys of API.md and s3-access.md.
var storageKeys = []string{
	"aws_access_key_id", "aws_secret_access_key", "aws_session_token",
	"region", "endpoint", "max_retries",
}

func checkStorage(opts map[string]string) error {
	for k := range opts {
		known := false
		for _, s := range storageKeys {
			known = known || k == s
		}
		if !known {
			return jerr.New(jerr.Config, "unknown storage_options key %q; expected one of %s", k, strings.Join(storageKeys, ", "))
		}
	}
	return nil
}
