package source

import (
	"context"

	"github.com/jetliner/jetliner/core/jerr"
)

func createS3(_ context.Context, uri string, _ *Options) (Sink, error) {
	return nil, jerr.New(jerr.Config, "writing to S3 is not supported yet: write a local file and upload it").WithPath(uri)
}
