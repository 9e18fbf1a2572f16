package source

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/jetliner/jetliner/core/jerr"
)

// fakeS3 is a small S3 over HTTP for unit tests: ranged GETs (with If-Match),
// HEAD, ListObjectsV2 with pagination, S3 error bodies, and hooks for faults. It
// does not check signatures; the Python tests run against a real server for that.
type fakeS3 struct {
	t       *testing.T
	mu      sync.Mutex
	objects map[string][]byte // "bucket/key"
	etags   map[string]string
	region  string // if set, requests signed for another region are refused

	// fault, if set, may answer a request itself (return true).
	fault func(w http.ResponseWriter, r *http.Request, n int) bool

	requests atomic.Int64
	gets     atomic.Int64
	active   atomic.Int64
	maxAct   atomic.Int64
	ranges   []string
	srv      *httptest.Server
}

func newFakeS3(t *testing.T) *fakeS3 {
	f := &fakeS3{t: t, objects: map[string][]byte{}, etags: map[string]string{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeS3) put(bucket, key string, data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[bucket+"/"+key] = data
	f.etags[bucket+"/"+key] = fmt.Sprintf(`"%x"`, rand.Uint64())
}

func (f *fakeS3) s3Error(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message></Error>`, code, msg)
}

func (f *fakeS3) serve(w http.ResponseWriter, r *http.Request) {
	n := int(f.requests.Add(1))
	if r.Method == http.MethodGet && r.Header.Get("Range") != "" {
		f.gets.Add(1)
		act := f.active.Add(1)
		defer f.active.Add(-1)
		for {
			m := f.maxAct.Load()
			if act <= m || f.maxAct.CompareAndSwap(m, act) {
				break
			}
		}
		f.mu.Lock()
		f.ranges = append(f.ranges, r.Header.Get("Range"))
		f.mu.Unlock()
	}
	if f.fault != nil && f.fault(w, r, n) {
		return
	}
	if f.region != "" && !strings.Contains(r.Header.Get("Authorization"), "/"+f.region+"/s3/") {
		f.s3Error(w, 400, "AuthorizationHeaderMalformed",
			fmt.Sprintf("The authorization header is malformed; the region 'us-east-1' is wrong; expecting '%s'", f.region))
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	if r.URL.Query().Get("list-type") == "2" {
		f.list(w, r, bucket)
		return
	}
	f.mu.Lock()
	data, ok := f.objects[bucket+"/"+key]
	etag := f.etags[bucket+"/"+key]
	f.mu.Unlock()
	if !ok {
		f.s3Error(w, 404, "NoSuchKey", "The specified key does not exist.")
		return
	}
	if im := r.Header.Get("If-Match"); im != "" && im != etag {
		f.s3Error(w, 412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
		return
	}
	w.Header().Set("ETag", etag)
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		return
	}
	rng := r.Header.Get("Range")
	if rng == "" {
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data)
		return
	}
	var start, end int64
	if _, err := fmt.Sscanf(rng, "bytes=%d-%d", &start, &end); err != nil {
		f.t.Errorf("bad Range %q", rng)
	}
	if start >= int64(len(data)) {
		f.s3Error(w, 416, "InvalidRange", "The requested range is not satisfiable")
		return
	}
	end = min(end, int64(len(data))-1)
	w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(data)))
	w.Header().Set("Content-Length", strconv.FormatInt(end-start+1, 10))
	w.WriteHeader(http.StatusPartialContent)
	w.Write(data[start : end+1])
}

type listResult struct {
	XMLName               xml.Name `xml:"ListBucketResult"`
	Name                  string
	Prefix                string
	KeyCount              int
	MaxKeys               int
	IsTruncated           bool
	NextContinuationToken string `xml:",omitempty"`
	Contents              []struct{ Key string }
	CommonPrefixes        []struct{ Prefix string }
}

func (f *fakeS3) list(w http.ResponseWriter, r *http.Request, bucket string) {
	q := r.URL.Query()
	prefix, delim, token := q.Get("prefix"), q.Get("delimiter"), q.Get("continuation-token")
	maxKeys, _ := strconv.Atoi(q.Get("max-keys"))
	f.mu.Lock()
	var keys []string
	found := false
	for k := range f.objects {
		b, key, _ := strings.Cut(k, "/")
		if b != bucket {
			continue
		}
		found = true
		if strings.HasPrefix(key, prefix) && key > token {
			if delim != "" && strings.Contains(key[len(prefix):], delim) {
				continue // under a common prefix; this fake leaves those out
			}
			keys = append(keys, key)
		}
	}
	f.mu.Unlock()
	if !found {
		f.s3Error(w, 404, "NoSuchBucket", "The specified bucket does not exist")
		return
	}
	sort.Strings(keys)
	res := listResult{Name: bucket, Prefix: prefix, MaxKeys: maxKeys}
	if maxKeys > 0 && len(keys) > maxKeys {
		keys = keys[:maxKeys]
		res.IsTruncated = true
		res.NextContinuationToken = keys[len(keys)-1]
	}
	for _, k := range keys {
		res.Contents = append(res.Contents, struct{ Key string }{k})
	}
	res.KeyCount = len(keys)
	w.Header().Set("Content-Type", "application/xml")
	xml.NewEncoder(w).Encode(res)
}

// s3TestEnv isolates a test from the machine's AWS settings and shortens waits.
func s3TestEnv(t *testing.T) {
	dir := t.TempDir()
	for _, kv := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", envTimeout} {
		t.Setenv(kv, "")
	}
	t.Setenv("AWS_CONFIG_FILE", dir+"/config")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", dir+"/credentials")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv(envRetryBase, "1")
}

const testSecret = "test-secret-key/0123456789abcdef"

func (f *fakeS3) options(extra ...string) *Options {
	st := map[string]string{
		"endpoint":              f.srv.URL,
		"aws_access_key_id":     "AKIATEST",
		"aws_secret_access_key": testSecret,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		st[extra[i]] = extra[i+1]
	}
	return &Options{Glob: true, Storage: st}
}

func testData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

func TestParseS3URI(t *testing.T) {
	for _, tc := range []struct{ uri, bucket, key string }{
		{"s3://b/k", "b", "k"},
		{"s3://b/a/b/c.avro", "b", "a/b/c.avro"},
		{"s3://b", "b", ""},
		{"s3://b/", "b", ""},
	} {
		b, k, err := ParseS3URI(tc.uri)
		if err != nil || b != tc.bucket || k != tc.key {
			t.Errorf("ParseS3URI(%q) = %q, %q, %v", tc.uri, b, k, err)
		}
	}
	for _, bad := range []string{"s3://", "s3:///k", "http://b/k"} {
		if _, _, err := ParseS3URI(bad); jerr.KindOf(err) != jerr.Config {
			t.Errorf("ParseS3URI(%q): want a Config error, got %v", bad, err)
		}
	}
}

func TestS3Settings(t *testing.T) {
	s3TestEnv(t)
	s, err := s3SettingsFrom(nil)
	if err != nil || s.maxRetries != 2 || s.timeout != defaultS3Timeout {
		t.Fatalf("defaults: %+v, %v", s, err)
	}
	if s.retryBase != time.Millisecond {
		t.Errorf("%s=1 gives base %v", envRetryBase, s.retryBase)
	}
	bad := []map[string]string{
		{"max_retries": "-1"},
		{"max_retries": "two"},
		{"max_retries": "101"},
		{"aws_access_key_id": "AKIA"},
		{"aws_secret_access_key": testSecret},
		{"aws_session_token": "tok"},
		{"endpoint": "localhost:9000"},
		{"endpoint": "ftp://host"},
	}
	for _, st := range bad {
		_, err := s3SettingsFrom(st)
		if jerr.KindOf(err) != jerr.Config {
			t.Errorf("%v: want a Config error, got %v", st, err)
		}
		if err != nil && strings.Contains(err.Error(), testSecret) {
			t.Errorf("%v: the error shows the secret: %v", st, err)
		}
	}
	t.Setenv(envTimeout, "0")
	if _, err := s3SettingsFrom(nil); jerr.KindOf(err) != jerr.Config {
		t.Errorf("%s=0: want a Config error, got %v", envTimeout, err)
	}
}

func TestRetryDelays(t *testing.T) {
	p := retryPolicy{maxRetries: 10, base: time.Second}
	for retry, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second} {
		for range 20 {
			d := p.delay(retry)
			if d < want || d > want+want/10 {
				t.Fatalf("delay(%d) = %v, want %v plus up to 10%%", retry, d, want)
			}
		}
	}
	if d := p.delay(60); d < maxBackoff || d > maxBackoff+maxBackoff/10 {
		t.Errorf("delay(60) = %v, want the %v cap", d, maxBackoff)
	}
	if d := (retryPolicy{base: 0}).delay(3); d != 0 {
		t.Errorf("zero base: delay %v", d)
	}
}

func apiErr(status int, code string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "GetObject", Err: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{}}},
		Err:      &smithy.GenericAPIError{Code: code, Message: "message for " + code},
	}}
}

func TestRetryableAndKinds(t *testing.T) {
	for _, tc := range []struct {
		err       error
		retryable bool
		kind      jerr.Kind
	}{
		{apiErr(500, "InternalError"), true, jerr.Source},
		{apiErr(503, "SlowDown"), true, jerr.Source},
		{apiErr(502, ""), true, jerr.Source},
		{apiErr(429, "TooManyRequests"), true, jerr.Source},
		{apiErr(404, "NoSuchKey"), false, jerr.NotFound},
		{apiErr(404, "NoSuchBucket"), false, jerr.NotFound},
		{apiErr(404, "NotFound"), false, jerr.NotFound},
		{apiErr(403, "InvalidAccessKeyId"), false, jerr.Auth},
		{apiErr(403, "SignatureDoesNotMatch"), false, jerr.Auth},
		{apiErr(400, "ExpiredToken"), false, jerr.Auth},
		{apiErr(403, "AccessDenied"), false, jerr.Permission},
		{apiErr(403, ""), false, jerr.Permission},
		// The code decides before the status: a gateway's own code for an unknown
		// access key, sent as 404, is not a missing object.
		{apiErr(404, "XAdminUserNotFound"), false, jerr.Auth},
		{apiErr(400, "AccessDenied"), false, jerr.Permission},
		{apiErr(412, "PreconditionFailed"), false, jerr.Source},
		{apiErr(400, "InvalidArgument"), false, jerr.Source},
		{&credentialsError{errors.New("no EC2 IMDS role found")}, false, jerr.Auth},
		{fmt.Errorf("get identity: %w", &credentialsError{&smithyhttp.RequestSendError{Err: io.EOF}}), false, jerr.Auth},
		{&smithyhttp.RequestSendError{Err: errors.New("dial tcp: connection refused")}, true, jerr.Source},
		{&shortBodyError{got: 1, want: 2, err: io.ErrUnexpectedEOF}, true, jerr.Source},
		{errors.New("something else"), false, jerr.Source},
	} {
		if got := retryable(tc.err); got != tc.retryable {
			t.Errorf("retryable(%v) = %v", tc.err, got)
		}
		mapped := s3Error(tc.err, "GET", "s3://b/k")
		if k := jerr.KindOf(mapped); k != tc.kind {
			t.Errorf("s3Error(%v) is %s, want %s: %v", tc.err, k, tc.kind, mapped)
		}
	}
	if k := jerr.KindOf(s3Error(context.Canceled, "GET", "s3://b/k")); k != jerr.Cancelled {
		t.Errorf("context.Canceled maps to %s", k)
	}
	e := s3Error(&exhaustedError{attempts: 3, err: apiErr(503, "SlowDown")}, "GET", "s3://b/k")
	if !strings.Contains(e.Error(), "gave up after 3 attempts") || !strings.Contains(e.Error(), "SlowDown") {
		t.Errorf("exhausted message: %v", e)
	}
}

func TestRedaction(t *testing.T) {
	RegisterCredentials("", testSecret, "")
	defer resetCredentials()
	err := s3Error(errors.New("request with key "+testSecret+" failed"), "GET", "s3://b/k")
	if strings.Contains(err.Error(), testSecret) || !strings.Contains(err.Error(), "***") {
		t.Errorf("not redacted: %v", err)
	}
}

func TestRetryPolicyDo(t *testing.T) {
	p := retryPolicy{maxRetries: 3, base: time.Millisecond}
	calls := 0
	err := p.do(context.Background(), func(context.Context) error {
		calls++
		if calls < 3 {
			return apiErr(503, "SlowDown")
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	calls = 0
	err = p.do(context.Background(), func(context.Context) error { calls++; return apiErr(500, "InternalError") })
	var ex *exhaustedError
	if !errors.As(err, &ex) || ex.attempts != 4 || calls != 4 {
		t.Fatalf("want 4 attempts then exhaustedError, got %v after %d calls", err, calls)
	}
	calls = 0
	err = p.do(context.Background(), func(context.Context) error { calls++; return apiErr(403, "AccessDenied") })
	if calls != 1 || errors.As(err, &ex) {
		t.Fatalf("a non-retryable error was retried: %v after %d calls", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	slow := retryPolicy{maxRetries: 3, base: time.Hour}
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	start := time.Now()
	err = slow.do(ctx, func(context.Context) error { return apiErr(503, "SlowDown") })
	if !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
		t.Fatalf("cancel during backoff: %v after %v", err, time.Since(start))
	}
}

// readAll reads src front to back the way the container reader does: contiguous
// reads of varying sizes.
func readAll(t *testing.T, src Source, sizes []int) []byte {
	t.Helper()
	var out []byte
	var off int64
	for i := 0; off < src.Size(); i++ {
		p := make([]byte, sizes[i%len(sizes)])
		n, err := src.ReadAt(context.Background(), p, off)
		if err != nil && !(errors.Is(err, io.EOF) && off+int64(n) == src.Size()) {
			t.Fatalf("ReadAt(%d, %d): %d, %v", len(p), off, n, err)
		}
		out = append(out, p[:n]...)
		off += int64(n)
	}
	return out
}

func TestS3ReadAt(t *testing.T) {
	s3TestEnv(t)
	f := newFakeS3(t)
	data := testData(1_000_003)
	f.put("bkt", "dir/obj.avro", data)
	for _, chunk := range []int{4096, 65536, 1 << 20, 4 << 20} {
		for _, sizes := range [][]int{{chunk}, {1000, 77777, 3}, {3 * chunk}, {chunk - 5, chunk + 5}} {
			opts := f.options()
			opts.ChunkSize = chunk
			var stats Stats
			src, err := Open(context.Background(), "s3://bkt/dir/obj.avro", opts, &stats)
			if err != nil {
				t.Fatal(err)
			}
			if src.Size() != int64(len(data)) || src.Path() != "s3://bkt/dir/obj.avro" {
				t.Fatalf("size %d, path %q", src.Size(), src.Path())
			}
			got := readAll(t, src, sizes)
			if !bytes.Equal(got, data) {
				t.Fatalf("chunk %d, sizes %v: the bytes differ", chunk, sizes)
			}
			if stats.Bytes != int64(len(data)) {
				t.Errorf("chunk %d, sizes %v: %d bytes downloaded for %d", chunk, sizes, stats.Bytes, len(data))
			}
			src.Close()
			src.Close()
		}
	}
	// Random access, past the end, after close.
	opts := f.options()
	opts.ChunkSize = 10000
	src, err := Open(context.Background(), "s3://bkt/dir/obj.avro", opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		off := rand.Int64N(int64(len(data)))
		p := make([]byte, rand.IntN(50000)+1)
		n, err := src.ReadAt(context.Background(), p, off)
		want := min(int64(len(p)), int64(len(data))-off)
		if int64(n) != want || !bytes.Equal(p[:n], data[off:off+int64(n)]) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", len(p), off, n, err)
		}
		if (n < len(p)) != errors.Is(err, io.EOF) {
			t.Fatalf("ReadAt(%d, %d): n %d with err %v", len(p), off, n, err)
		}
	}
	if n, err := src.ReadAt(context.Background(), make([]byte, 10), int64(len(data))); n != 0 || err != io.EOF {
		t.Errorf("read at the end: %d, %v", n, err)
	}
	src.Close()
	if _, err := src.ReadAt(context.Background(), make([]byte, 10), 0); err == nil {
		t.Error("read after close succeeded")
	}
}

func TestS3OpenErrors(t *testing.T) {
	s3TestEnv(t)
	f := newFakeS3(t)
	f.put("bkt", "empty.avro", nil)
	src, err := Open(context.Background(), "s3://bkt/empty.avro", f.options(), nil)
	if err != nil || src.Size() != 0 {
		t.Fatalf("empty object: %v", err)
	}
	src.Close()
	for uri, kind := range map[string]jerr.Kind{
		"s3://bkt/missing.avro": jerr.NotFound,
		"s3://bkt/":             jerr.Config,
		"s3://bkt/dir/":         jerr.Config,
	} {
		_, err := Open(context.Background(), uri, f.options(), nil)
		if jerr.KindOf(err) != kind {
			t.Errorf("%s: want %s, got %v", uri, kind, err)
		}
		if e := jerr.As(err); e.Path != uri {
			t.Errorf("%s: error path %q", uri, e.Path)
		}
	}
}

func TestS3RetriesAndResume(t *testing.T) {
	s3TestEnv(t)
	f := newFakeS3(t)
	data := testData(300_000)
	f.put("bkt", "k", data)
	var failures atomic.Int64
	// Each chunk after the first: a 503, then a body cut after 1000 bytes, then the
	// rest. That is 3 attempts, as many as the default max_retries allows.
	seen := map[int]int{}
	var mu sync.Mutex
	f.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
		rng := r.Header.Get("Range")
		var start, end int
		fmt.Sscanf(rng, "bytes=%d-%d", &start, &end)
		if start == 0 {
			return false
		}
		mu.Lock()
		seen[start/(64<<10)]++
		k := seen[start/(64<<10)]
		mu.Unlock()
		switch k {
		case 1:
			failures.Add(1)
			f.s3Error(w, 503, "SlowDown", "slow down")
			return true
		case 2:
			if end-start < 2000 {
				return false
			}
			failures.Add(1)
			w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end, len(data)))
			w.Header().Set("Content-Length", strconv.Itoa(end-start+1))
			w.WriteHeader(206)
			w.Write(data[start : start+1000])
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return true
		}
		return false
	}
	opts := f.options()
	opts.ChunkSize = 64 << 10
	var stats Stats
	src, err := Open(context.Background(), "s3://bkt/k", opts, &stats)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if got := readAll(t, src, []int{64 << 10}); !bytes.Equal(got, data) {
		t.Fatal("the bytes differ after retries")
	}
	if failures.Load() < 8 {
		t.Errorf("only %d faults were injected", failures.Load())
	}
	// Every cut was resumed from where it stopped.
	resumed := 0
	for _, rng := range f.ranges {
		var start int
		fmt.Sscanf(rng, "bytes=%d-", &start)
		if start%(64<<10) == 1000 {
			resumed++
		}
	}
	if resumed < 3 {
		t.Errorf("%d resumed ranges in %v", resumed, f.ranges)
	}

	// Exhausted: max_retries=1 and every GET fails.
	f.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
		f.s3Error(w, 500, "InternalError", "boom")
		return true
	}
	before := f.requests.Load()
	_, err = Open(context.Background(), "s3://bkt/k", f.options("max_retries", "1"), nil)
	if jerr.KindOf(err) != jerr.Source || !strings.Contains(err.Error(), "gave up after 2 attempts") {
		t.Fatalf("want SourceError after 2 attempts, got %v", err)
	}
	if n := f.requests.Load() - before; n != 2 {
		t.Errorf("%d requests for max_retries=1", n)
	}
}

func TestS3CancelAndClose(t *testing.T) {
	s3TestEnv(t)
	f := newFakeS3(t)
	data := testData(1 << 20)
	f.put("bkt", "k", data)
	aborted := make(chan struct{}, 100)
	f.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if strings.HasPrefix(r.Header.Get("Range"), "bytes=0-") {
			return false
		}
		// Hold every later GET until the client gives up on it.
		select {
		case <-r.Context().Done():
			aborted <- struct{}{}
		case <-time.After(10 * time.Second):
		}
		return true
	}
	opts := f.options()
	opts.ChunkSize = 64 << 10
	src, err := Open(context.Background(), "s3://bkt/k", opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 64<<10)
	if _, err := src.ReadAt(context.Background(), p, 0); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	start := time.Now()
	_, err = src.ReadAt(ctx, p, 64<<10)
	if jerr.KindOf(err) != jerr.Cancelled || time.Since(start) > 2*time.Second {
		t.Fatalf("cancelled read: %v after %v", err, time.Since(start))
	}
	select {
	case <-aborted:
	case <-time.After(2 * time.Second):
		t.Fatal("the cancelled read's request was not aborted")
	}
	// Close aborts what is in flight too.
	go src.ReadAt(context.Background(), p, 64<<10)
	time.Sleep(50 * time.Millisecond)
	src.Close()
	select {
	case <-aborted:
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not abort the request in flight")
	}
}

func TestS3ReadAheadIsBounded(t *testing.T) {
	s3TestEnv(t)
	f := newFakeS3(t)
	data := testData(4 << 20)
	f.put("bkt", "k", data)
	f.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
		time.Sleep(5 * time.Millisecond) // so that requests overlap
		return false
	}
	for _, tc := range []struct {
		blocks   int
		bytes    int64
		ahead    int
		maxInFly int64
	}{
		{1, 64 << 20, 1, 2},
		{4, 64 << 20, 4, 5},
		{8, 64 << 20, 8, 9},
		{8, 256 << 10, 2, 3}, // buffer_bytes/2 holds two 64 KiB chunks
		{8, 64 << 10, 0, 1},  // no room for read-ahead at all
	} {
		f.maxAct.Store(0)
		opts := f.options()
		opts.ChunkSize, opts.BufferBlocks, opts.BufferBytes = 64<<10, tc.blocks, tc.bytes
		src, err := Open(context.Background(), "s3://bkt/k", opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		if a := src.(*s3Object).ahead; a != tc.ahead {
			t.Errorf("%+v: read-ahead %d", tc, a)
		}
		if got := readAll(t, src, []int{64<<10 - 100}); !bytes.Equal(got, data) {
			t.Fatal("the bytes differ")
		}
		src.Close()
		if m := f.maxAct.Load(); m > tc.maxInFly {
			t.Errorf("%+v: %d GETs in flight at once", tc, m)
		}
	}
}

func TestS3EarlyStopDownloadsOneChunk(t *testing.T) {
	s3TestEnv(t)
	f := newFakeS3(t)
	f.put("bkt", "k", testData(10<<20))
	opts := f.options()
	opts.ChunkSize = 1 << 20
	var stats Stats
	src, err := Open(context.Background(), "s3://bkt/k", opts, &stats)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.ReadAt(context.Background(), make([]byte, 1<<20), 0); err != nil {
		t.Fatal(err)
	}
	src.Close()
	if stats.Bytes != 1<<20 || stats.Requests != 1 {
		t.Errorf("one chunk read: %d bytes in %d requests", stats.Bytes, stats.Requests)
	}
}

func TestS3ObjectChangedWhileReading(t *testing.T) {
	s3TestEnv(t)
	f := newFakeS3(t)
	f.put("bkt", "k", testData(200_000))
	opts := f.options()
	opts.ChunkSize = 64 << 10
	src, err := Open(context.Background(), "s3://bkt/k", opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f.put("bkt", "k", testData(200_000)) // a new version: new ETag
	_, err = src.ReadAt(context.Background(), make([]byte, 100_000), 0)
	if jerr.KindOf(err) != jerr.Source || !strings.Contains(err.Error(), "changed") {
		t.Fatalf("want a SourceError about the change, got %v", err)
	}
}

func TestS3RegionRedirect(t *testing.T) {
	s3TestEnv(t)
	f := newFakeS3(t)
	f.region = "eu-west-1"
	f.put("bkt", "a/k.avro", testData(1000))
	src, err := Open(context.Background(), "s3://bkt/a/k.avro", f.options(), nil)
	if err != nil {
		t.Fatalf("a bucket in another region: %v", err)
	}
	src.Close()
	got, err := Expand(context.Background(), []string{"s3://bkt/a/*.avro"}, f.options())
	if err != nil || len(got) != 1 {
		t.Fatalf("listing a bucket in another region: %v, %v", got, err)
	}
}

func TestS3Glob(t *testing.T) {
	s3TestEnv(t)
	f := newFakeS3(t)
	for _, k := range []string{
		"data/a.avro", "data/b.avro", "data/c.txt", "data/sub/d.avro", "data/sub/x/e.avro",
		"data/f1.avro", "data/f2.avro", "data/f3.avro", "other/g.avro", "data/dir/",
	} {
		f.put("bkt", k, []byte("x"))
	}
	old := listPageSize
	listPageSize = 2
	t.Cleanup(func() { listPageSize = old })
	for _, tc := range []struct {
		glob string
		want []string
	}{
		{"s3://bkt/data/*.avro", []string{"data/a.avro", "data/b.avro", "data/f1.avro", "data/f2.avro", "data/f3.avro"}},
		{"s3://bkt/data/f?.avro", []string{"data/f1.avro", "data/f2.avro", "data/f3.avro"}},
		{"s3://bkt/data/f[13].avro", []string{"data/f1.avro", "data/f3.avro"}},
		{"s3://bkt/{data,other}/[ag].avro", []string{"data/a.avro", "other/g.avro"}},
		{"s3://bkt/data/**/*.avro", []string{"data/a.avro", "data/b.avro", "data/f1.avro", "data/f2.avro",
			"data/f3.avro", "data/sub/d.avro", "data/sub/x/e.avro"}},
		{"s3://bkt/*/sub/*.avro", []string{"data/sub/d.avro"}},
		{"s3://bkt/**", []string{"data/a.avro", "data/b.avro", "data/c.txt", "data/f1.avro", "data/f2.avro",
			"data/f3.avro", "data/sub/d.avro", "data/sub/x/e.avro", "other/g.avro"}},
	} {
		got, err := Expand(context.Background(), []string{tc.glob}, f.options())
		if err != nil {
			t.Errorf("%s: %v", tc.glob, err)
			continue
		}
		want := make([]string, len(tc.want))
		for i, k := range tc.want {
			want[i] = "s3://bkt/" + k
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s:\n got %v\nwant %v", tc.glob, got, want)
		}
	}
	for glob, kind := range map[string]jerr.Kind{
		"s3://bkt/data/*.parquet": jerr.NotFound,
		"s3://nobkt/*.avro":       jerr.NotFound,
		"s3://bk*/x.avro":         jerr.Config,
	} {
		if _, err := Expand(context.Background(), []string{glob}, f.options()); jerr.KindOf(err) != kind {
			t.Errorf("%s: want %s, got %v", glob, kind, err)
		}
	}
}
