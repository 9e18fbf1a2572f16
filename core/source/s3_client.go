package source

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/jetliner/jetliner/core/jerr"
)

// S3 defaults. The retry policy is the one s3-access.md documents: max_retries
// retries after the first attempt, waiting 1 s, 2 s, 4 s, ... in between.
const (
	defaultS3Region      = "us-east-1"
	defaultMaxRetries    = 2
	defaultRetryBase     = time.Second
	defaultS3Timeout     = 30 * time.Second
	defaultS3ConnTimeout = 10 * time.Second
	// DefaultS3ChunkSize is the size of one ranged GET when read_chunk_size is auto.
	DefaultS3ChunkSize = 4 << 20
)

// Environment variables that tune the S3 client. They exist so that tests can
// shrink the waits; users normally leave them alone.
const (
	envRetryBase = "JETLINER_S3_RETRY_BASE_MS" // first backoff delay, doubled per retry
	envTimeout   = "JETLINER_S3_TIMEOUT_MS"    // idle read timeout (and connect timeout cap)
)

// s3Settings is everything that decides how an S3 client behaves: storage_options
// first, then jetliner's environment knobs. The SDK's own sources (environment,
// shared config files, web identity, container and instance roles) fill the rest.
type s3Settings struct {
	keyID, secret, token string
	region, endpoint     string
	maxRetries           int
	retryBase            time.Duration
	timeout              time.Duration
}

func s3SettingsFrom(storage map[string]string) (s3Settings, error) {
	s := s3Settings{
		keyID:      storage["aws_access_key_id"],
		secret:     storage["aws_secret_access_key"],
		token:      storage["aws_session_token"],
		region:     storage["region"],
		endpoint:   strings.TrimSpace(storage["endpoint"]),
		maxRetries: defaultMaxRetries,
		retryBase:  defaultRetryBase,
		timeout:    defaultS3Timeout,
	}
	bad := func(format string, args ...any) (s3Settings, error) {
		return s3Settings{}, jerr.New(jerr.Config, format, args...)
	}
	// Never echo the values of the credential keys: they may be secrets. And
	// from here on no message shows them (see Redact).
	RegisterCredentials(s.keyID, s.secret, s.token)
	switch {
	case (s.keyID == "") != (s.secret == ""):
		return bad("storage_options must give both aws_access_key_id and aws_secret_access_key, or neither")
	case s.token != "" && s.keyID == "":
		return bad("storage_options gives aws_session_token without aws_access_key_id and aws_secret_access_key")
	}
	if v, ok := storage["max_retries"]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 || n > 100 {
			return bad("storage_options max_retries must be an integer from 0 to 100, got %q", v)
		}
		s.maxRetries = n
	}
	if s.endpoint != "" {
		u, err := url.Parse(s.endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("storage_options endpoint must be an http:// or https:// URL, got %q", s.endpoint)
		}
	}
	var err error
	if s.retryBase, err = envMillis(envRetryBase, defaultRetryBase, true); err != nil {
		return s3Settings{}, err
	}
	if s.timeout, err = envMillis(envTimeout, defaultS3Timeout, false); err != nil {
		return s3Settings{}, err
	}
	return s, nil
}

func envMillis(name string, def time.Duration, zeroOK bool) (time.Duration, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 || (n == 0 && !zeroOK) {
		return 0, jerr.New(jerr.Config, "environment variable %s must be a number of milliseconds, got %q", name, v)
	}
	return time.Duration(n) * time.Millisecond, nil
}

func (s s3Settings) policy() retryPolicy {
	return retryPolicy{maxRetries: s.maxRetries, base: s.retryBase}
}

// An s3Client is an SDK client plus the settings it was built from.
type s3Client struct {
	api      *s3.Client
	settings s3Settings
	region   string // the region requests are signed for
	used     time.Time
}

// Clients are cached so that the files of one glob, and successive reads, share
// credentials (no new instance-role or STS call per file) and pooled connections.
// The key covers everything a client is built from, including the AWS_*
// environment, so changing a variable or a profile gives a fresh client.
var clientCache struct {
	sync.Mutex
	m map[[32]byte]*s3Client
}

const (
	clientCacheSize = 16
	clientCacheTTL  = 10 * time.Minute
)

// bucketRegions remembers, per endpoint and bucket, the region S3 said a bucket is
// in when a request was signed for another one, so that the next files of a glob
// and later reads go to the right region at once.
var bucketRegions sync.Map

func bucketRegionKey(s s3Settings, bucket string) string {
	return strings.Join([]string{s.endpoint, os.Getenv("AWS_ENDPOINT_URL_S3"), os.Getenv("AWS_ENDPOINT_URL"), bucket}, "\x00")
}

// s3ClientFor returns a client for reading from bucket with opts.
func s3ClientFor(ctx context.Context, opts *Options, bucket string) (*s3Client, error) {
	var storage map[string]string
	if opts != nil {
		storage = opts.Storage
	}
	settings, err := s3SettingsFrom(storage)
	if err != nil {
		return nil, err
	}
	if r, ok := bucketRegions.Load(bucketRegionKey(settings, bucket)); ok {
		settings.region = r.(string)
	}
	key := clientKey(storage, settings.region)
	now := time.Now()
	clientCache.Lock()
	defer clientCache.Unlock()
	if c := clientCache.m[key]; c != nil && now.Sub(c.used) < clientCacheTTL {
		c.used = now
		return c, nil
	}
	api, region, err := newS3API(ctx, settings)
	if err != nil {
		return nil, err
	}
	if clientCache.m == nil {
		clientCache.m = map[[32]byte]*s3Client{}
	}
	for k, c := range clientCache.m {
		if now.Sub(c.used) >= clientCacheTTL || len(clientCache.m) >= clientCacheSize {
			delete(clientCache.m, k)
		}
	}
	c := &s3Client{api: api, settings: settings, region: region, used: now}
	clientCache.m[key] = c
	return c, nil
}

// clientKey hashes the inputs of a client, so the cache holds no secret in clear.
func clientKey(storage map[string]string, region string) [32]byte {
	h := sha256.New()
	fmt.Fprintf(h, "region %q\n", region)
	keys := make([]string, 0, len(storage))
	for k := range storage {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "opt %q=%q\n", k, storage[k])
	}
	env := os.Environ()
	sort.Strings(env)
	for _, kv := range env {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "JETLINER_S3_") || strings.HasPrefix(kv, "HOME=") {
			fmt.Fprintf(h, "env %q\n", kv)
		}
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

func newS3API(ctx context.Context, s s3Settings) (*s3.Client, string, error) {
	connect := min(defaultS3ConnTimeout, s.timeout)
	httpClient := awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = connect }).
		WithTransportOptions(func(t *http.Transport) {
			// Read-ahead keeps several ranged GETs in flight per file.
			t.MaxIdleConnsPerHost = 64
			t.ResponseHeaderTimeout = s.timeout
		}).
		// An idle timeout on every read of the connection: a stalled body fails
		// after this long without data, however large the range is.
		WithReadTimeout(s.timeout)

	load := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		// The SDK logs to stderr by default (e.g. when a cancelled body is not
		// drained); a library must not write there. Errors are returned instead.
		config.WithLogger(logging.Nop{}),
		// Retries are jetliner's own (retryPolicy), so that a body cut midway is
		// resumed too and every attempt is counted; the SDK must not retry as well.
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
		config.WithDefaultRegion(defaultS3Region),
		// A ranged GET cannot be checked against a whole-object checksum.
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
	}
	if s.region != "" {
		load = append(load, config.WithRegion(s.region))
	}
	if s.keyID != "" {
		load = append(load, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(s.keyID, s.secret, s.token)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, load...)
	if err != nil {
		return nil, "", jerr.New(jerr.Config, "cannot load the AWS configuration: %s", Redact(err.Error()))
	}
	if cfg.Credentials != nil {
		cfg.Credentials = aws.NewCredentialsCache(credentialsProvider{cfg.Credentials})
	}
	endpoint := s.endpoint
	api := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		// MinIO, LocalStack, R2, Spaces...: a custom endpoint (from storage_options
		// or AWS_ENDPOINT_URL[_S3]) names a host that serves every bucket, so the
		// bucket goes in the path, not in a virtual host name.
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	})
	return api, cfg.Region, nil
}

// expectingRegion finds the bucket's region in S3's answer to a request signed for
// the wrong one: "the region 'us-east-1' is wrong; expecting 'eu-west-1'".
var expectingRegion = regexp.MustCompile(`expecting ['"]?([a-z0-9-]+)['"]?`)

// regionHint returns the region S3 says the bucket is in, when a request failed
// because it was sent to or signed for another region, and "" otherwise.
func regionHint(err error) string {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		if r := re.Response.Header.Get("X-Amz-Bucket-Region"); r != "" {
			switch re.HTTPStatusCode() {
			case 301, 307, 400:
				return r
			}
		}
	}
	if apiCode(err) == "AuthorizationHeaderMalformed" {
		if m := expectingRegion.FindStringSubmatch(apiMessage(err)); m != nil {
			return m[1]
		}
	}
	return ""
}

// withRegionRedirect runs op with the client for bucket and, if S3 answers that
// the bucket is in another region, remembers that region and runs op once more
// with a client for it.
func withRegionRedirect(ctx context.Context, opts *Options, bucket string, op func(*s3Client) error) (*s3Client, error) {
	c, err := s3ClientFor(ctx, opts, bucket)
	if err != nil {
		return nil, err
	}
	err = op(c)
	if hint := regionHint(err); hint != "" && hint != c.region {
		bucketRegions.Store(bucketRegionKey(c.settings, bucket), hint)
		if c, err = s3ClientFor(ctx, opts, bucket); err != nil {
			return nil, err
		}
		err = op(c)
	}
	return c, err
}

// credentialsProvider marks the failures of the credential chain, so that "no
// credentials found" is reported as an authentication problem and not retried.
type credentialsProvider struct{ aws.CredentialsProvider }

func (p credentialsProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{err}
	}
	// Credentials from a profile, a role or a credential process are secrets
	// no option named: a server's answer may echo them.
	RegisterCredentials(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	return c, nil
}

type credentialsError struct{ err error }

func (e *credentialsError) Error() string {
	return "cannot get AWS credentials: " + Redact(e.err.Error())
}
func (e *credentialsError) Unwrap() error { return e.err }

func isCredentialsError(err error) bool {
	var c *credentialsError
	return errors.As(err, &c)
}
