package source

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/jetliner/jetliner/core/jerr"
)

// shortBodyError is a response body that ended before its Content-Length: a
// connection cut midway. The remaining range is requested again.
type shortBodyError struct {
	got, want int
	err       error
}

func (e *shortBodyError) Error() string {
	return fmt.Sprintf("response body ended after %d of %d bytes: %v", e.got, e.want, e.err)
}

func (e *shortBodyError) Unwrap() error { return e.err }

// retryable reports whether a failed request may succeed when sent again:
// connection errors, timeouts, bodies cut midway, 5xx and 429. Everything else
// (not found, bad credentials, access denied, bad requests) fails at once.
func retryable(err error) bool {
	if isCredentialsError(err) {
		return false
	}
	var short *shortBodyError
	if errors.As(err, &short) {
		return true
	}
	if status := httpStatus(err); status != 0 {
		return status >= 500 || status == 429 || status == 408
	}
	if code := apiCode(err); code != "" {
		switch code {
		case "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable",
			"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests":
			return true
		}
		return false
	}
	// A certificate the client does not trust will not become trusted by retrying.
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &verify) {
		return false
	}
	var timeout *awshttp.ResponseTimeoutError
	var netErr net.Error
	var sendErr *smithyhttp.RequestSendError
	switch {
	case errors.As(err, &timeout), errors.As(err, &netErr), errors.As(err, &sendErr):
		return true
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return true
	case errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return false
}

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.HTTPStatusCode()
	}
	return 0
}

func apiCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

func apiMessage(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorMessage()
	}
	return ""
}

// S3 error codes that mean the credentials themselves are wrong. The code decides
// before the HTTP status does: gateways send some of these with statuses that
// mean something else (versitygw answers an unknown access key with
// XAdminUserNotFound and 404, which is not a missing object).
var authCodes = map[string]bool{
	"InvalidAccessKeyId":           true,
	"SignatureDoesNotMatch":        true,
	"ExpiredToken":                 true,
	"InvalidToken":                 true,
	"TokenRefreshRequired":         true,
	"InvalidSecurity":              true,
	"MissingSecurityHeader":        true,
	"AuthorizationHeaderMalformed": true,
	"InvalidClientTokenId":         true,
	"UnrecognizedClientException":  true,
	"NotSignedUp":                  true,
	"CredentialsNotSupported":      true,
	"XAdminUserNotFound":           true, // versitygw without IAM: no user has this access key
}

// S3 error codes that mean valid credentials lack a permission.
var permissionCodes = map[string]bool{
	"AccessDenied":       true,
	"AllAccessDisabled":  true,
	"AccountProblem":     true,
	"InvalidObjectState": true, // archived (Glacier) objects cannot be read
}

// s3Error turns a failed S3 call into a jetliner error of the right kind: missing
// object or bucket -> NotFound, bad credentials -> Auth, denied -> Permission,
// cancelled -> Cancelled, anything else (unreachable, retries exhausted, 5xx) ->
// Source. The service's error code is looked at before the HTTP status, which
// only decides when the code says nothing we know. Messages never contain a secret.
func s3Error(err error, action, uri string) error {
	if err == nil {
		return nil
	}
	var je *jerr.Error
	if errors.As(err, &je) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return jerr.Wrap(jerr.Cancelled, err, "read cancelled").WithPath(uri)
	}
	code, status := apiCode(err), httpStatus(err)
	detail := describe(err)
	var kind jerr.Kind
	var msg string
	switch {
	case isCredentialsError(err):
		kind, msg = jerr.Auth, "no usable AWS credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "+
			"AWS_PROFILE, or pass aws_access_key_id and aws_secret_access_key in storage_options)"
	case authCodes[code]:
		kind, msg = jerr.Auth, "S3 rejected the credentials"
	case permissionCodes[code]:
		kind, msg = jerr.Permission, "S3 denied access"
	case code == "NoSuchBucket":
		kind, msg = jerr.NotFound, "S3 bucket does not exist"
	case code == "NoSuchKey" || code == "NotFound" || status == 404:
		kind, msg = jerr.NotFound, "S3 object does not exist"
	case status == 401:
		kind, msg = jerr.Auth, "S3 rejected the credentials"
	case status == 403:
		kind, msg = jerr.Permission, "S3 denied access"
	case code == "PreconditionFailed" || status == 412:
		kind, msg = jerr.Source, "the S3 object changed while it was being read"
	case code == "" && status == 0 && retryable(err):
		kind, msg = jerr.Source, fmt.Sprintf("cannot reach S3 (%s)", action)
	default:
		kind, msg = jerr.Source, fmt.Sprintf("S3 %s failed", action)
	}
	e := jerr.New(kind, "%s: %s", msg, Redact(detail)).WithPath(uri)
	if kind == jerr.Source {
		e.WithVariant(jerr.S3Error)
	}
	return e
}

// describe says what went wrong in one line: the S3 code and message when the
// service sent one, otherwise the transport error, and the number of attempts.
func describe(err error) string {
	var creds *credentialsError
	if errors.As(err, &creds) {
		// The codes and statuses inside are those of the credential source (an
		// instance metadata service, STS...), not of S3: show its own words.
		return creds.err.Error()
	}
	var parts []string
	var ex *exhaustedError
	if errors.As(err, &ex) {
		parts = append(parts, fmt.Sprintf("gave up after %d attempts", ex.attempts))
	}
	code, status := apiCode(err), httpStatus(err)
	switch {
	case code != "" && apiMessage(err) != "":
		parts = append(parts, fmt.Sprintf("%s: %s", code, apiMessage(err)))
	case code != "":
		parts = append(parts, code)
	}
	if status != 0 {
		parts = append(parts, fmt.Sprintf("HTTP %d", status))
	}
	if code == "" && status == 0 {
		// A transport failure: the SDK's wrapping ("operation error S3: GetObject,
		// https response error StatusCode: 0, ...") says nothing; its cause does.
		cause := err
		if ex != nil {
			cause = ex.err
		}
		var send *smithyhttp.RequestSendError
		if errors.As(cause, &send) && send.Err != nil {
			cause = send.Err
		}
		parts = append(parts, cause.Error())
	}
	return strings.Join(parts, "; ")
}
