package source

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	defer resetCredentials()
	resetCredentials()
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_SECURITY_TOKEN", "")
	const (
		secret = "s3cr/t+K3y=Long-Enough-To/Cut"
		token  = "Tok7en+" // 7 bytes: a word-only value
		keyID  = "AKIDSHORTKEY0001"
		tiny   = "q"
	)
	RegisterCredentials(keyID, secret, token)
	RegisterCredentials("", tiny, "")
	gone := func(t *testing.T, in string, values ...string) {
		t.Helper()
		out := Redact(in)
		for _, v := range values {
			if strings.Contains(out, v) {
				t.Errorf("Redact(%q) = %q still shows %q", in, out, v)
			}
		}
		if !strings.Contains(out, redacted) {
			t.Errorf("Redact(%q) = %q: nothing replaced", in, out)
		}
	}
	gone(t, "key "+secret+" rejected", secret)
	gone(t, "key '"+strings.TrimSpace(" "+secret+" ")+"'", secret)
	gone(t, "query X="+url.QueryEscape(secret)+"&y", url.QueryEscape(secret))
	gone(t, "path /"+url.PathEscape(secret)+"/", url.PathEscape(secret))
	gone(t, "lower "+lowerHex(url.QueryEscape(secret)), "%2f")
	gone(t, "b64 "+base64.StdEncoding.EncodeToString([]byte(secret)), base64.StdEncoding.EncodeToString([]byte(secret)))
	// Cut short (a server echoing a prefix or a middle), 12 bytes or more.
	gone(t, "token "+secret[:14]+"... is bad", secret[:14])
	gone(t, "token ..."+secret[5:20]+"...", secret[5:20])
	// A short value as a word: quoted, after '=', as the whole text.
	gone(t, `the token "`+token+`" expired`, token)
	gone(t, "X-Amz-Security-Token="+token+"&X", token)
	gone(t, token, token)
	gone(t, "key "+keyID+" unknown", keyID)
	gone(t, `user "q" is not allowed`, `"q"`)
	// Fields that look like credentials, whatever their value.
	gone(t, `{"SecretAccessKey": "abcdefghij", "Expiration": 1}`, "abcdefghij")
	gone(t, "SessionToken=zzzz1111 rest", "zzzz1111")

	// What stays: short values inside words, runs shorter than 12 bytes, the
	// access key id cut short, ordinary text.
	for _, keep := range []string{
		"quick query",  // 'q' inside words
		"xTok7en+y",    // the short token glued into a word
		"s3cr/t+K3y=L", // a 12-byte run: replaced (checked below)
		"AKIDSHORT and SignatureDoesNotMatch: The request signature we calculated does not match",
	} {
		out := Redact(keep)
		if keep == "s3cr/t+K3y=L" {
			if out == keep {
				t.Errorf("a 12-byte run of the secret kept: %q", out)
			}
			continue
		}
		if out != keep {
			t.Errorf("Redact(%q) = %q, want it unchanged", keep, out)
		}
	}
	if out := Redact("s3cr/t+K3y="); out != "s3cr/t+K3y=" {
		t.Errorf("an 11-byte run was replaced: %q", out)
	}
	// Touching and overlapping matches become one marker.
	if out := Redact(secret + secret[:13]); out != redacted {
		t.Errorf("overlaps: %q", out)
	}
}

// Values of the environment are redacted without being registered.
func TestRedactEnvironment(t *testing.T) {
	defer resetCredentials()
	t.Setenv("AWS_SESSION_TOKEN", "env-session-token-value")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "abc")
	if out := Redact("t=env-session-token-value; k=abc"); out != "t=***; k=***" {
		t.Errorf("%q", out)
	}
}
