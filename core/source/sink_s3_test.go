package source

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/jetliner/jetliner/core/jerr"
)

// The S3 sink is tested against versitygw, a real S3 server (the one the Python
// tests use; `make tools` installs it), so that multipart uploads, their
// completion and their abortion are S3's own. Faults come from a proxy in front
// of it.

const (
	gwAccess = "AKIAJETLINERROOT0001"
	gwSecret = "jetlinerRootSecret/0123456789abcdefABCDEF"
)

func versitygwBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("JETLINER_VERSITYGW"); p != "" {
		return p
	}
	if p, err := filepath.Abs("../../.tools/bin/versitygw"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	t.Fatal("the S3 test server versitygw is not installed: run `make tools`, or point JETLINER_VERSITYGW at it")
	return ""
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// gateway is a versitygw server with one bucket, and a fault proxy before it.
type gateway struct {
	endpoint string // the server itself
	proxy    string // the proxy
	bucket   string
	api      *s3.Client
	// fault, if set, may answer a request itself (return true) instead of
	// passing it on.
	fault atomic.Pointer[func(w http.ResponseWriter, r *http.Request) bool]
}

func startGateway(t *testing.T) *gateway {
	s3TestEnv(t)
	bin := versitygwBinary(t)
	addr := freePort(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "--port", addr, "--access", gwAccess, "--secret", gwSecret,
		"--region", "us-east-1", "--quiet", "posix", dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw does not listen on %s: %s", addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	g := &gateway{endpoint: "http://" + addr, bucket: "out"}
	target, _ := url.Parse(g.endpoint)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0) // aborted uploads are expected
	// The Host header stays the proxy's: the requests were signed for it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := g.fault.Load(); f != nil && (*f)(w, r) {
			return
		}
		rp.ServeHTTP(w, r)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	g.proxy = "http://" + l.Addr().String()
	c, err := s3ClientFor(context.Background(), g.options(g.endpoint), g.bucket)
	if err != nil {
		t.Fatal(err)
	}
	g.api = c.api
	if _, err := g.api.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &g.bucket}); err != nil {
		t.Fatal(err)
	}
	return g
}

func (g *gateway) options(endpoint string) *Options {
	return &Options{Storage: map[string]string{
		"endpoint": endpoint, "aws_access_key_id": gwAccess, "aws_secret_access_key": gwSecret,
	}}
}

func (g *gateway) setFault(f func(w http.ResponseWriter, r *http.Request) bool) { g.fault.Store(&f) }

func (g *gateway) get(t *testing.T, key string) ([]byte, error) {
	out, err := g.api.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &g.bucket, Key: &key})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// pending lists the multipart uploads not completed nor aborted.
func (g *gateway) pending(t *testing.T) []string {
	out, err := g.api.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: &g.bucket})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, u := range out.Uploads {
		ids = append(ids, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return ids
}

// writeInPieces writes data in uneven pieces, as an encoder writing blocks does.
func writeInPieces(s Sink, data []byte) error {
	for i := 0; len(data) > 0; i++ {
		n := min(len(data), 1000+i*77777)
		if _, err := s.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// Small writes become one PutObject, large ones a multipart upload of
// part_size parts (the last one shorter); the object appears only on Commit,
// holds exactly the bytes written, and no upload is left pending.
func TestS3SinkWrites(t *testing.T) {
	g := startGateway(t)
	var mu sync.Mutex
	methods := map[string]int{}
	g.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		q := r.URL.Query()
		switch {
		case q.Has("uploads"):
			methods["create"]++
		case q.Has("partNumber"):
			methods["part"]++
		case q.Has("uploadId") && r.Method == http.MethodPost:
			methods["complete"]++
		case r.Method == http.MethodPut:
			methods["put"]++
		}
		return false
	})
	opts := g.options(g.proxy)
	opts.PartSize = MinS3PartSize
	for _, size := range []int{0, 10, MinS3PartSize - 1, MinS3PartSize, 2*MinS3PartSize + 12345} {
		clear(methods)
		key := fmt.Sprintf("dir/size-%d.avro", size)
		data := testData(size)
		s, err := Create(context.Background(), "s3://"+g.bucket+"/"+key, opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeInPieces(s, data); err != nil {
			t.Fatal(err)
		}
		if _, err := g.get(t, key); err == nil {
			t.Errorf("size %d: the object is visible before Commit", size)
		}
		if err := s.Commit(); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		got, err := g.get(t, key)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("size %d: read back %d bytes, %v", size, len(got), err)
		}
		wantParts := (size + MinS3PartSize - 1) / MinS3PartSize
		want := map[string]int{"put": 1}
		if size >= MinS3PartSize {
			want = map[string]int{"create": 1, "part": wantParts, "complete": 1}
		}
		mu.Lock()
		if fmt.Sprint(methods) != fmt.Sprint(want) {
			t.Errorf("size %d: requests %v, want %v", size, methods, want)
		}
		mu.Unlock()
		if s.Commit() != nil || s.Abort() != nil {
			t.Error("Commit or Abort after Commit fails")
		}
		if _, err := g.get(t, key); err != nil {
			t.Errorf("size %d: Abort after Commit removed the object", size)
		}
	}
	if p := g.pending(t); len(p) != 0 {
		t.Errorf("uploads left pending: %v", p)
	}
}

// Abort, and every failure, leave no object and no pending upload, whether the
// upload had started or not.
func TestS3SinkAbortAndFaults(t *testing.T) {
	g := startGateway(t)
	opts := g.options(g.proxy)
	opts.PartSize = MinS3PartSize
	data := testData(3*MinS3PartSize + 100)
	uri := func(key string) string { return "s3://" + g.bucket + "/" + key }
	check := func(key string) {
		t.Helper()
		if _, err := g.get(t, key); err == nil {
			t.Errorf("%s: an object was left", key)
		}
		if p := g.pending(t); len(p) != 0 {
			t.Errorf("%s: uploads left pending: %v", key, p)
		}
	}

	// Abort mid-upload, and before anything was sent.
	for _, n := range []int{2*MinS3PartSize + 10, 100} {
		key := fmt.Sprintf("aborted-%d", n)
		s, err := Create(context.Background(), uri(key), opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := writeInPieces(s, data[:n]); err != nil {
			t.Fatal(err)
		}
		if err := s.Abort(); err != nil {
			t.Fatal(err)
		}
		if s.Abort() != nil || s.Commit() == nil {
			t.Error("a second Abort fails, or a Commit after Abort succeeds")
		}
		check(key)
	}

	// A transient failure of a part is retried and the write succeeds.
	var failed atomic.Int32
	g.setFault(func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Get("partNumber") == "2" && failed.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	s, _ := Create(context.Background(), uri("retried"), opts)
	if err := writeInPieces(s, data); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(); err != nil {
		t.Fatal(err)
	}
	if got, err := g.get(t, "retried"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("after a retried part: %d bytes, %v", len(got), err)
	}

	// A part that keeps failing, a connection cut for good, a completion that
	// is refused: each fails the write, which leaves nothing behind.
	cut := func(w http.ResponseWriter) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}
	faults := map[string]func(w http.ResponseWriter, r *http.Request) bool{
		"part-500": func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Query().Get("partNumber") == "3" {
				w.WriteHeader(http.StatusInternalServerError)
				return true
			}
			return false
		},
		"part-cut": func(w http.ResponseWriter, r *http.Request) bool {
			if r.URL.Query().Get("partNumber") == "2" {
				cut(w)
				return true
			}
			return false
		},
		"complete-denied": func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPost && r.URL.Query().Has("uploadId") {
				w.WriteHeader(http.StatusForbidden)
				return true
			}
			return false
		},
	}
	for name, f := range faults {
		g.setFault(f)
		s, err := Create(context.Background(), uri(name), opts)
		if err != nil {
			t.Fatal(err)
		}
		err = writeInPieces(s, data)
		if err == nil {
			err = s.Commit()
		} else {
			// The write failed: what Commit says is the same failure.
			if err2 := s.Commit(); err2 == nil {
				t.Errorf("%s: Commit after a failed Write succeeds", name)
			}
		}
		e := jerr.As(err)
		switch {
		case name == "complete-denied" && e.Kind != jerr.Permission,
			name != "complete-denied" && (e.Kind != jerr.Source || !strings.Contains(e.Message, "gave up after 3 attempts")):
			t.Errorf("%s: %v (%s)", name, err, e.Kind)
		}
		if e.Path != uri(name) {
			t.Errorf("%s: error names %q", name, e.Path)
		}
		g.setFault(nil)
		if err := s.Abort(); err != nil {
			t.Errorf("%s: Abort: %v", name, err)
		}
		check(name)
	}
	g.fault.Store(nil)
}

// Cancelling the write's context stops it: the next call fails as cancelled,
// and the upload is aborted.
func TestS3SinkCancel(t *testing.T) {
	g := startGateway(t)
	opts := g.options(g.proxy)
	opts.PartSize = MinS3PartSize
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Create(ctx, "s3://"+g.bucket+"/cancelled", opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeInPieces(s, testData(MinS3PartSize+10)); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = s.Write([]byte("more"))
	wantKind(t, err, jerr.Cancelled)
	wantKind(t, s.Commit(), jerr.Cancelled)
	if _, err := g.get(t, "cancelled"); err == nil {
		t.Error("a cancelled write left an object")
	}
	if p := g.pending(t); len(p) != 0 {
		t.Errorf("uploads left pending: %v", p)
	}
}

// Bad destinations and options fail at Create, before anything is written;
// a missing bucket fails the write as FileNotFoundError.
func TestS3SinkErrors(t *testing.T) {
	g := startGateway(t)
	for _, tc := range []struct {
		uri  string
		opts *Options
		kind jerr.Kind
	}{
		{"s3://" + g.bucket, g.options(g.proxy), jerr.Config},
		{"s3://" + g.bucket + "/dir/", g.options(g.proxy), jerr.Config},
		{"s3:///key", g.options(g.proxy), jerr.Config},
		{"s3://" + g.bucket + "/k", &Options{PartSize: 1 << 20, Storage: g.options(g.proxy).Storage}, jerr.Config},
		{"s3://" + g.bucket + "/k", &Options{Storage: map[string]string{"aws_access_key_id": "x"}}, jerr.Config},
	} {
		_, err := Create(context.Background(), tc.uri, tc.opts)
		if e := wantKind(t, err, tc.kind); e.Path != tc.uri {
			t.Errorf("%s: error names %q", tc.uri, e.Path)
		}
	}
	s, err := Create(context.Background(), "s3://no-such-bucket/k", g.options(g.proxy))
	if err != nil {
		t.Fatal(err)
	}
	s.Write([]byte("data"))
	wantKind(t, s.Commit(), jerr.NotFound)
	bad := g.options(g.proxy)
	bad.Storage["aws_secret_access_key"] = "wrong"
	s, _ = Create(context.Background(), "s3://"+g.bucket+"/k", bad)
	s.Write([]byte("data"))
	e := wantKind(t, s.Commit(), jerr.Auth)
	if strings.Contains(e.Error(), gwSecret) {
		t.Error("the error shows the secret")
	}
}
