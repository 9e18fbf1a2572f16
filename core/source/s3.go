package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/jetliner/jetliner/core/jerr"
)

// s3Object is a Source over one S3 object. It reads the object in aligned chunks
// of ChunkSize bytes, one ranged GET each, and keeps up to `ahead` chunks in
// flight beyond the one being read once the reads prove sequential:
//
//   - The first chunk is fetched by Open (the same GET also tells the object's
//     size and ETag), so opening and reading the header cost one request.
//   - Read-ahead starts with the second sequential chunk and grows by one chunk per
//     chunk read, up to `ahead`. A reader that stops early (head(), n_rows, a
//     header-only open) therefore downloads little more than what it used.
//   - Chunks behind the reader are dropped; Close and a cancelled read abort every
//     request still in flight.
//
// Every GET after the first carries If-Match with the ETag, so an object replaced
// while it is read fails loudly instead of mixing two versions.
type s3Object struct {
	api    *s3.Client
	uri    string
	bucket string
	key    string
	size   int64
	etag   string
	chunk  int64
	ahead  int // most chunks fetched beyond the reader
	policy retryPolicy
	stats  *Stats

	ctx    context.Context // cancelled by Close: aborts every fetch
	cancel context.CancelFunc

	mu      sync.Mutex
	fetches map[int64]*fetch // by chunk index
	last    int64            // last chunk of the previous read, -1 before any
	ramp    int              // current read-ahead, 0..ahead
	closed  bool
}

// A fetch is one chunk being downloaded (or downloaded).
type fetch struct {
	done   chan struct{} // closed when data or err is set
	data   []byte
	err    error
	cancel context.CancelFunc
}

func openS3(ctx context.Context, uri string, opts *Options, stats *Stats) (Source, error) {
	bucket, key, err := ParseS3URI(uri)
	if err != nil {
		return nil, err
	}
	if key == "" || strings.HasSuffix(key, "/") {
		return nil, jerr.New(jerr.Config, "S3 URI names no object (want s3://bucket/key)").WithPath(uri)
	}
	if stats == nil {
		stats = new(Stats)
	}
	chunk := int64(DefaultS3ChunkSize)
	bufBlocks, bufBytes := 4, int64(64<<20)
	if opts != nil {
		if opts.ChunkSize > 0 {
			chunk = int64(opts.ChunkSize)
		}
		if opts.BufferBlocks > 0 {
			bufBlocks = opts.BufferBlocks
		}
		if opts.BufferBytes > 0 {
			bufBytes = opts.BufferBytes
		}
	}
	// The scan holds up to buffer_bytes of framed blocks itself; read-ahead takes at
	// most half as much again, and no more chunks than buffer_blocks.
	ahead := int(min(int64(bufBlocks), bufBytes/2/chunk))
	var o *s3Object
	_, err = withRegionRedirect(ctx, opts, bucket, func(c *s3Client) error {
		octx, cancel := context.WithCancel(context.Background())
		o = &s3Object{
			api: c.api, uri: uri, bucket: bucket, key: key, chunk: chunk, ahead: ahead,
			policy: c.settings.policy(), stats: stats,
			ctx: octx, cancel: cancel, fetches: map[int64]*fetch{}, last: -1,
		}
		err := o.open(ctx)
		if err != nil {
			cancel()
		}
		return err
	})
	if err != nil {
		return nil, withPathIfUnset(s3Error(err, "GET", uri), uri)
	}
	return o, nil
}

// ParseS3URI splits s3://bucket/key. The key may be empty.
func ParseS3URI(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if !ok {
		return "", "", jerr.New(jerr.Config, "not an S3 URI (want s3://bucket/key)").WithPath(uri)
	}
	bucket, key, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", jerr.New(jerr.Config, "S3 URI has no bucket (want s3://bucket/key)").WithPath(uri)
	}
	return bucket, key, nil
}

func withPathIfUnset(err error, path string) error {
	var e *jerr.Error
	if errors.As(err, &e) && e.Path == "" {
		e.Path = path
	}
	return err
}

func (o *s3Object) fail(err error, action string) error {
	return s3Error(err, action, o.uri)
}

// open fetches the first chunk, learning the object's size and ETag from the
// same response, and keeps the chunk for the first ReadAt. Errors are the SDK's,
// unmapped, so that the caller can see a region redirect.
func (o *s3Object) open(ctx context.Context) error {
	var buf []byte
	got, known := 0, false
	err := o.policy.do(ctx, func(ctx context.Context) error {
		if known {
			// A retry after a body cut midway: ask for the rest only.
			n, err := o.getOnce(ctx, int64(got), buf[got:])
			got += n
			return err
		}
		out, err := o.get(ctx, 0, o.chunk)
		if err != nil {
			if apiCode(err) == "InvalidRange" || httpStatus(err) == 416 {
				// Only an empty object has no byte 0.
				return o.head(ctx)
			}
			return err
		}
		defer out.Body.Close()
		size, err := objectSize(out)
		if err != nil {
			return err
		}
		o.size, o.etag, known = size, aws.ToString(out.ETag), true
		buf = make([]byte, min(o.chunk, size))
		n, err := o.readBody(out.Body, buf)
		got += n
		return err
	})
	if err != nil {
		return err
	}
	if known && len(buf) > 0 {
		done := make(chan struct{})
		close(done)
		o.fetches[0] = &fetch{done: done, data: buf, cancel: func() {}}
	}
	return nil
}

// head sets the size and ETag from a HEAD request (used for empty objects).
func (o *s3Object) head(ctx context.Context) error {
	atomic.AddInt64(&o.stats.Requests, 1)
	out, err := o.api.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &o.bucket, Key: &o.key})
	if err != nil {
		return err
	}
	o.size, o.etag = aws.ToInt64(out.ContentLength), aws.ToString(out.ETag)
	return nil
}

// get starts a GET of [off, off+n). The caller closes the body.
func (o *s3Object) get(ctx context.Context, off, n int64) (*s3.GetObjectOutput, error) {
	in := &s3.GetObjectInput{
		Bucket: &o.bucket,
		Key:    &o.key,
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1)),
	}
	if o.etag != "" {
		in.IfMatch = aws.String(o.etag)
	}
	atomic.AddInt64(&o.stats.Requests, 1)
	return o.api.GetObject(ctx, in)
}

// getOnce makes one attempt at filling dst with the bytes at off. It returns how
// many bytes arrived, so that a retry can ask for the rest only.
func (o *s3Object) getOnce(ctx context.Context, off int64, dst []byte) (int, error) {
	out, err := o.get(ctx, off, int64(len(dst)))
	if err != nil {
		return 0, err
	}
	defer out.Body.Close()
	if start, ok := rangeStart(aws.ToString(out.ContentRange)); !ok || start != off {
		return 0, jerr.New(jerr.Source, "S3 server ignored the Range header (asked for bytes from %d, got %q)",
			off, aws.ToString(out.ContentRange)).WithPath(o.uri)
	}
	return o.readBody(out.Body, dst)
}

// readBody fills dst from a response body, counting the bytes as they arrive.
func (o *s3Object) readBody(body io.Reader, dst []byte) (int, error) {
	n := 0
	for n < len(dst) {
		m, err := body.Read(dst[n:])
		n += m
		atomic.AddInt64(&o.stats.Bytes, int64(m))
		if err != nil {
			if n == len(dst) && errors.Is(err, io.EOF) {
				break
			}
			return n, &shortBodyError{got: n, want: len(dst), err: err}
		}
	}
	return n, nil
}

// objectSize reads the total size from Content-Range ("bytes 0-99/1234"), or from
// Content-Length when the server sent the whole object.
func objectSize(out *s3.GetObjectOutput) (int64, error) {
	if cr := aws.ToString(out.ContentRange); cr != "" {
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil && n >= 0 {
				return n, nil
			}
		}
		return 0, fmt.Errorf("cannot parse Content-Range %q", cr)
	}
	if out.ContentLength != nil {
		return *out.ContentLength, nil
	}
	return 0, errors.New("response gives neither Content-Range nor Content-Length")
}

func rangeStart(cr string) (int64, bool) {
	rest, ok := strings.CutPrefix(cr, "bytes ")
	if !ok {
		return 0, false
	}
	first, _, ok := strings.Cut(rest, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(first, 10, 64)
	return n, err == nil
}

// ReadAt reads len(p) bytes at off from the chunks that cover them, starting their
// downloads as needed and keeping the read-ahead window full.
func (o *s3Object) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, jerr.Wrap(jerr.Cancelled, err, "read cancelled").WithPath(o.uri)
	}
	if off < 0 {
		return 0, jerr.New(jerr.Internal, "negative read offset %d", off).WithPath(o.uri)
	}
	if off >= o.size || len(p) == 0 {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), o.size)
	first, last := off/o.chunk, (end-1)/o.chunk
	if err := o.plan(first, last); err != nil {
		return 0, err
	}
	n := 0
	for i := first; i <= last; i++ {
		f, err := o.ensure(i, last)
		if err != nil {
			return n, err
		}
		select {
		case <-f.done:
		case <-ctx.Done():
			// The read is abandoned: whatever is in flight is not wanted any more.
			o.dropAll()
			return n, jerr.Wrap(jerr.Cancelled, ctx.Err(), "read cancelled").WithPath(o.uri)
		}
		if f.err != nil {
			o.drop(i)
			return n, f.err
		}
		start := i * o.chunk
		lo := max(off, start) - start
		hi := min(end, start+int64(len(f.data))) - start
		n += copy(p[n:], f.data[lo:hi])
		if i < last {
			o.drop(i) // consumed: the reader moves forward
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// plan updates the read-ahead state for a read of chunks first..last and forgets
// chunks that the reader has left behind (or jumped over).
func (o *s3Object) plan(first, last int64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return jerr.New(jerr.Config, "the S3 source is closed").WithPath(o.uri)
	}
	switch {
	case o.last < 0:
	case first == o.last || first == o.last+1:
		if last > o.last {
			o.ramp = min(o.ramp+1, o.ahead)
		}
	default:
		o.ramp = 0 // a jump: not a sequential stream, or not any more
	}
	o.last = last
	for i, f := range o.fetches {
		if i < first || i > last+int64(o.ramp) {
			f.cancel()
			delete(o.fetches, i)
		}
	}
	return nil
}

// ensure makes sure chunk i is being fetched, together with the chunks after it up
// to the read-ahead window (and, for a long read, its next few chunks, so that a
// large block downloads over several connections at once).
func (o *s3Object) ensure(i, last int64) (*fetch, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil, jerr.New(jerr.Config, "the S3 source is closed").WithPath(o.uri)
	}
	limit := min(last, i+int64(max(o.ahead, 1))) + int64(o.ramp)
	if n := (o.size + o.chunk - 1) / o.chunk; limit >= n {
		limit = n - 1
	}
	for j := i; j <= limit; j++ {
		if o.fetches[j] == nil {
			o.fetches[j] = o.start(j)
		}
	}
	return o.fetches[i], nil
}

// start launches the download of chunk i. The caller holds o.mu.
func (o *s3Object) start(i int64) *fetch {
	ctx, cancel := context.WithCancel(o.ctx)
	f := &fetch{done: make(chan struct{}), cancel: cancel}
	off := i * o.chunk
	buf := make([]byte, min(o.chunk, o.size-off))
	go func() {
		defer close(f.done)
		defer cancel()
		got := 0
		err := o.policy.do(ctx, func(ctx context.Context) error {
			n, err := o.getOnce(ctx, off+int64(got), buf[got:])
			got += n
			return err
		})
		if err != nil {
			f.err = o.fail(err, "GET")
			return
		}
		f.data = buf
	}()
	return f
}

func (o *s3Object) drop(i int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if f := o.fetches[i]; f != nil {
		f.cancel()
		delete(o.fetches, i)
	}
}

func (o *s3Object) dropAll() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for i, f := range o.fetches {
		f.cancel()
		delete(o.fetches, i)
	}
	o.ramp = 0
}

func (o *s3Object) Size() int64  { return o.size }
func (o *s3Object) Path() string { return o.uri }

// Close aborts every request in flight and frees the chunks. It is safe to call
// more than once.
func (o *s3Object) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	o.cancel()
	o.fetches = nil
	return nil
}
