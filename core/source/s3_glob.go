package source

import (
	"context"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/jetliner/jetliner/core/jerr"
)

// listPageSize is the MaxKeys of each ListObjectsV2 call (S3's own maximum); tests
// lower it to exercise pagination.
var listPageSize int32 = 1000

// expandS3 lists the objects that match the patterns (one glob after brace
// expansion) and returns their s3:// URIs, sorted. Each pattern is listed from
// its literal prefix; when its glob characters are all in the last path segment,
// the listing uses a "/" delimiter and so does not descend into "directories".
func expandS3(ctx context.Context, patterns []Pattern, opts *Options) ([]string, error) {
	seen := map[string]bool{}
	var matches []string
	for _, p := range patterns {
		bucket, keyPattern, err := ParseS3URI(p.text)
		if err != nil {
			return nil, err
		}
		if HasMeta(bucket) {
			return nil, jerr.New(jerr.Config, "S3 bucket names cannot contain glob characters").WithPath(p.text)
		}
		root := "s3://" + bucket + "/"
		prefix := strings.TrimPrefix(p.LiteralPrefix(), root)
		var delimiter *string
		if !p.Recursive() && !strings.Contains(keyPattern[len(prefix):], "/") {
			delimiter = aws.String("/")
		}
		var keys []string
		_, err = withRegionRedirect(ctx, opts, bucket, func(c *s3Client) error {
			var err error
			keys, err = listKeys(ctx, c, bucket, prefix, delimiter)
			return err
		})
		if err != nil {
			return nil, withPathIfUnset(s3Error(err, "ListObjectsV2", root+prefix), p.text)
		}
		for _, key := range keys {
			uri := root + key
			if !strings.HasSuffix(key, "/") && p.Match(uri) && !seen[uri] {
				seen[uri] = true
				matches = append(matches, uri)
			}
		}
	}
	sort.Strings(matches)
	return matches, nil
}

// listKeys returns every key under prefix, following continuation tokens. Each
// page is retried on its own under the client's retry policy.
func listKeys(ctx context.Context, c *s3Client, bucket, prefix string, delimiter *string) ([]string, error) {
	var keys []string
	var token *string
	for {
		var out *s3.ListObjectsV2Output
		err := c.settings.policy().do(ctx, func(ctx context.Context) error {
			var err error
			out, err = c.api.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
				Bucket:            &bucket,
				Prefix:            &prefix,
				Delimiter:         delimiter,
				ContinuationToken: token,
				MaxKeys:           aws.Int32(listPageSize),
			})
			return err
		})
		if err != nil {
			return nil, err
		}
		for _, obj := range out.Contents {
			keys = append(keys, aws.ToString(obj.Key))
		}
		if !aws.ToBool(out.IsTruncated) || aws.ToString(out.NextContinuationToken) == "" {
			return keys, nil
		}
		token = out.NextContinuationToken
	}
}
