package source

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/jetliner/jetliner/core/jerr"
)

// S3 multipart limits (those of AWS S3; other stores accept at least as much).
const (
	// DefaultS3PartSize is the size of one part of a multipart upload.
	DefaultS3PartSize = 8 << 20
	// MinS3PartSize and MaxS3PartSize bound part_size: S3 refuses parts smaller
	// than 5 MiB (but the last) and larger than 5 GiB.
	MinS3PartSize = 5 << 20
	MaxS3PartSize = 5 << 30
	// maxS3Parts is the most parts one upload may have.
	maxS3Parts = 10000
	// s3PartsInFlight is how many parts upload at once. Memory is bounded by
	// this many parts plus the one being filled.
	s3PartsInFlight = 4
	// s3AbortTimeout bounds the clean-up of a failed upload, which runs even
	// when the write's own context is cancelled.
	s3AbortTimeout = 2 * time.Minute
)

// s3Sink writes one S3 object. Data smaller than a part is sent as one
// PutObject on Commit. Anything larger becomes a multipart upload: each full
// part is uploaded while the next one fills, s3PartsInFlight at most, with the
// read side's retries; Commit uploads the rest and completes the upload. The
// object appears only when CompleteMultipartUpload (or the PutObject) succeeds;
// Abort, or any failure, aborts the upload so that no parts are left behind.
type s3Sink struct {
	uri, bucket, key string
	opts             *Options
	partSize         int

	ctx    context.Context // the write's context, cancelled by Abort and on failure
	cancel context.CancelFunc

	mu        sync.Mutex // held by Write, Commit and Abort
	client    *s3Client  // set by the first request, which follows a region redirect
	buf       []byte     // the part being filled
	uploadID  string     // "" until the first part is sent
	next      int32      // number of the next part
	slots     chan struct{}
	uploads   sync.WaitGroup
	committed bool
	aborted   bool

	res   sync.Mutex // guards what the uploads report
	parts []types.CompletedPart
	err   error // the first failure
	free  [][]byte
}

func createS3(ctx context.Context, uri string, opts *Options) (Sink, error) {
	bucket, key, err := ParseS3URI(uri)
	if err != nil {
		return nil, err
	}
	if key == "" || strings.HasSuffix(key, "/") {
		return nil, jerr.New(jerr.Config, "S3 URI names no object (want s3://bucket/key)").WithPath(uri)
	}
	partSize := DefaultS3PartSize
	if opts.PartSize != 0 {
		if opts.PartSize < MinS3PartSize || opts.PartSize > MaxS3PartSize {
			return nil, jerr.New(jerr.Config, "part_size must be from %d (5 MiB) to %d (5 GiB) bytes, got %d",
				MinS3PartSize, MaxS3PartSize, opts.PartSize).WithPath(uri)
		}
		partSize = opts.PartSize
	}
	// The settings are checked now, so that a bad storage option fails before
	// any data is encoded.
	if _, err := s3SettingsFrom(opts.Storage); err != nil {
		return nil, withPathIfUnset(err, uri)
	}
	wctx, cancel := context.WithCancel(ctx)
	return &s3Sink{
		uri: uri, bucket: bucket, key: key, opts: opts, partSize: partSize,
		ctx: wctx, cancel: cancel,
		buf: make([]byte, 0, min(partSize, 1<<20)), next: 1,
		slots: make(chan struct{}, s3PartsInFlight),
	}, nil
}

// failure is the first error an upload reported, if any.
func (s *s3Sink) failure() error {
	s.res.Lock()
	defer s.res.Unlock()
	return s.err
}

// fail records err as the write's failure unless one is known already, stops
// the other uploads, and returns the failure.
func (s *s3Sink) fail(err error, action string) error {
	s.res.Lock()
	defer s.res.Unlock()
	if s.err == nil {
		s.err = s.mapError(err, action)
	}
	s.cancel()
	return s.err
}

func (s *s3Sink) mapError(err error, action string) error {
	if errors.Is(err, context.Canceled) {
		return jerr.Wrap(jerr.Cancelled, err, "write cancelled").WithPath(s.uri)
	}
	return withPathIfUnset(s3Error(err, action, s.uri), s.uri)
}

// usable is the error a Write or Commit gets now, if any. The caller holds s.mu.
func (s *s3Sink) usable() error {
	switch {
	case s.aborted:
		return jerr.New(jerr.Cancelled, "the write was aborted").WithPath(s.uri)
	case s.committed:
		return jerr.New(jerr.Internal, "write after the object was committed").WithPath(s.uri)
	}
	if err := s.failure(); err != nil {
		return err
	}
	if err := s.ctx.Err(); err != nil {
		return s.fail(err, "upload")
	}
	return nil
}

func (s *s3Sink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(); err != nil {
		return 0, err
	}
	n := 0
	for n < len(p) {
		room := s.partSize - len(s.buf)
		take := min(room, len(p)-n)
		s.buf = append(s.buf, p[n:n+take]...)
		n += take
		if len(s.buf) == s.partSize {
			if err := s.sendPart(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// sendPart starts the upload of s.buf as the next part, first starting the
// multipart upload if this is the first part, and waiting for a free slot.
func (s *s3Sink) sendPart() error {
	if s.uploadID == "" {
		if err := s.startUpload(); err != nil {
			return err
		}
	}
	if s.next > maxS3Parts {
		return s.fail(jerr.New(jerr.Config, "the object needs more than %d parts of %d bytes: raise part_size",
			maxS3Parts, s.partSize).WithPath(s.uri), "upload")
	}
	select {
	case s.slots <- struct{}{}:
	case <-s.ctx.Done():
		if err := s.failure(); err != nil {
			return err
		}
		return s.fail(s.ctx.Err(), "upload")
	}
	num, data := s.next, s.buf
	s.next++
	s.res.Lock()
	s.parts = append(s.parts, types.CompletedPart{PartNumber: aws.Int32(num)})
	if k := len(s.free); k > 0 {
		s.buf, s.free = s.free[k-1][:0], s.free[:k-1]
	} else {
		s.buf = make([]byte, 0, s.partSize)
	}
	s.res.Unlock()
	s.uploads.Add(1)
	go s.uploadPart(num, data)
	return nil
}

func (s *s3Sink) startUpload() error {
	var id string
	c, err := withRegionRedirect(s.ctx, s.opts, s.bucket, func(c *s3Client) error {
		return c.settings.policy().do(s.ctx, func(ctx context.Context) error {
			out, err := c.api.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &s.bucket, Key: &s.key})
			if err == nil {
				id = aws.ToString(out.UploadId)
			}
			return err
		})
	})
	if err != nil {
		return s.fail(err, "CreateMultipartUpload")
	}
	s.client, s.uploadID = c, id
	return nil
}

func (s *s3Sink) uploadPart(num int32, data []byte) {
	defer s.uploads.Done()
	defer func() { <-s.slots }()
	var etag *string
	err := s.client.settings.policy().do(s.ctx, func(ctx context.Context) error {
		out, err := s.client.api.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: &s.bucket, Key: &s.key, UploadId: &s.uploadID, PartNumber: aws.Int32(num),
			Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
		})
		if err == nil {
			etag = out.ETag
		}
		return err
	})
	if err != nil {
		s.fail(err, "UploadPart")
		return
	}
	s.res.Lock()
	s.parts[num-1].ETag = etag
	if cap(data) == s.partSize {
		s.free = append(s.free, data[:0])
	}
	s.res.Unlock()
}

func (s *s3Sink) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		return nil
	}
	err := s.usable()
	if err == nil {
		if s.uploadID == "" {
			err = s.putObject()
		} else {
			err = s.complete()
		}
	}
	if err != nil {
		s.abort()
		return err
	}
	s.committed = true
	s.cancel()
	return nil
}

// putObject sends everything written as one object: the write was smaller
// than a part.
func (s *s3Sink) putObject() error {
	data := s.buf
	_, err := withRegionRedirect(s.ctx, s.opts, s.bucket, func(c *s3Client) error {
		return c.settings.policy().do(s.ctx, func(ctx context.Context) error {
			_, err := c.api.PutObject(ctx, &s3.PutObjectInput{
				Bucket: &s.bucket, Key: &s.key,
				Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
			})
			return err
		})
	})
	if err != nil {
		return s.fail(err, "PutObject")
	}
	return nil
}

// complete uploads the last part, waits for every part and completes the
// multipart upload. The caller holds s.mu.
func (s *s3Sink) complete() error {
	// The last part may be smaller than part_size; a write that ended exactly
	// on a part boundary has none.
	if len(s.buf) > 0 {
		if err := s.sendPart(); err != nil {
			return err
		}
	}
	s.uploads.Wait()
	if err := s.failure(); err != nil {
		return err
	}
	parts := s.parts
	err := s.client.settings.policy().do(s.ctx, func(ctx context.Context) error {
		_, err := s.client.api.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: &s.bucket, Key: &s.key, UploadId: &s.uploadID,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
		return err
	})
	if err != nil {
		return s.fail(err, "CompleteMultipartUpload")
	}
	return nil
}

func (s *s3Sink) Abort() error {
	// Stop the uploads before waiting for s.mu: a Write may be waiting for one
	// of them to free a slot.
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.committed {
		return nil
	}
	return s.abort()
}

// abort stops every upload and aborts the multipart upload, so that S3 keeps
// (and bills) no parts. The caller holds s.mu.
func (s *s3Sink) abort() error {
	if s.aborted {
		return nil
	}
	s.aborted = true
	s.cancel()
	s.uploads.Wait()
	s.buf, s.free = nil, nil
	if s.uploadID == "" {
		return nil
	}
	// The write's context is cancelled by now; the clean-up gets its own.
	ctx, cancel := context.WithTimeout(context.Background(), s3AbortTimeout)
	defer cancel()
	policy := s.client.settings.policy()
	err := policy.do(ctx, s.abortOnce)
	// A part whose request was cut by the cancellation may still be stored by
	// the server after the abort, bringing the upload back (S3's documentation
	// says to abort again until ListParts finds no upload). Check, and repeat.
	for i := 0; err == nil && i < 5; i++ {
		_, lerr := s.client.api.ListParts(ctx, &s3.ListPartsInput{Bucket: &s.bucket, Key: &s.key, UploadId: &s.uploadID})
		if lerr != nil {
			break // NoSuchUpload: gone for good (or the check fails: nothing better to do)
		}
		time.Sleep(50 * time.Millisecond << i)
		err = policy.do(ctx, s.abortOnce)
	}
	if err != nil {
		e := jerr.As(s3Error(err, "AbortMultipartUpload", s.uri))
		e.Message = "cannot abort the multipart upload " + s.uploadID +
			" (its parts stay stored until it is aborted or a lifecycle rule removes them): " + e.Message
		return withPathIfUnset(e, s.uri)
	}
	return nil
}

func (s *s3Sink) abortOnce(ctx context.Context) error {
	_, err := s.client.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &s.bucket, Key: &s.key, UploadId: &s.uploadID,
	})
	if apiCode(err) == "NoSuchUpload" {
		return nil // gone already (an earlier attempt got through)
	}
	return err
}
