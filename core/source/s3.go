package source

import (
	"context"

	"github.com/jetliner/jetliner/core/jerr"
)

// openS3 and expandS3 are filled in by the S3 source.
func openS3(ctx context.Context, uri string, opts *Options, stats *Stats) (Source, error) {
	return nil, jerr.New(jerr.Source, "S3 sources are not available in this build").WithPath(uri)
}

func expandS3(ctx context.Context, patterns []Pattern, opts *Options) ([]string, error) {
	return nil, jerr.New(jerr.Source, "S3 sources are not available in this build")
}
