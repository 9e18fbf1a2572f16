package source

import (
	"encoding/base64"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// Credential values never appear in what jetliner says: error messages, paths in
// errors, skipped-block messages. Redact is applied where such text is made in
// this package and, as a last net, to every string the engine hands to Python.
//
// The values are those of storage_options (aws_access_key_id,
// aws_secret_access_key, aws_session_token), of the AWS_* environment variables
// that hold credentials, and those the SDK's credential chain returned (profiles,
// web identity, container and instance roles). The rule, for each value:
//
//   - the value itself, trimmed of white space, percent-encoded (as in a query
//     or a path, upper- or lower-case hex) and base64-encoded are its forms;
//   - a form of 8 bytes or more is replaced wherever it occurs;
//   - a shorter form (1 to 7 bytes) is replaced where it stands as a word: not
//     next to a letter or a digit (so also when it is the whole text). A
//     4-character secret such as LocalStack's "test" must not blank out every
//     word that contains it, and a short value glued inside a longer word is
//     not a credential being echoed;
//   - for a secret key or session token longer than 12 bytes, any run of 12 or
//     more of its bytes is replaced too, so a token a server echoes cut short is
//     gone as well. (Access key ids are not secret, and are matched whole only.)
//
// Besides the known values, the value of anything that looks like a credential
// field (SecretAccessKey: ..., X-Amz-Security-Token=..., "password": "...") is
// replaced: a credential process's or a server's words may carry a credential
// the chain never handed out.
const redacted = "***"

const (
	wordForm = 8  // forms shorter than this are replaced only as whole words
	fragment = 12 // runs of this many bytes of a longer secret are replaced
)

// credentialField matches "name: value", "name=value" and JSON "name": "value"
// for names that label credentials; group 2 is the value.
var credentialField = regexp.MustCompile(`(?i)((?:secret[_-]?access[_-]?key|secret[_-]?key|session[_-]?token|security[_-]?token|` +
	`x-amz-security-token|x-amz-signature|signature|password|passwd)["']?\s*[:=]\s*["']?)([^\s"'&,;}<]+)`)

// maxSecrets bounds the registry; a process sees few credentials, but it must not
// grow without end should credentials rotate for days.
const maxSecrets = 256

var secrets struct {
	sync.RWMutex
	order []string            // registration order, for dropping the oldest
	forms map[string][]string // value -> its forms
	long  map[string]bool     // the secret values whose runs are replaced
	grams map[string]struct{} // every fragment-long run of those values' forms
	whole []string            // those forms, for extending a run
}

// RegisterCredentials adds credential values to those Redact removes. Any may
// be empty.
func RegisterCredentials(keyID, secret, token string) {
	register(keyID, false)
	register(secret, true)
	register(token, true)
}

func register(v string, runs bool) {
	if v == "" {
		return
	}
	secrets.RLock()
	_, known := secrets.forms[v]
	again := known && runs && !secrets.long[v]
	secrets.RUnlock()
	if known && !again {
		return
	}
	secrets.Lock()
	defer secrets.Unlock()
	if secrets.forms == nil {
		secrets.forms, secrets.long = map[string][]string{}, map[string]bool{}
	}
	if _, ok := secrets.forms[v]; !ok {
		secrets.forms[v] = formsOf(v)
		secrets.order = append(secrets.order, v)
	}
	if runs {
		secrets.long[v] = true
	}
	for len(secrets.order) > maxSecrets {
		delete(secrets.forms, secrets.order[0])
		delete(secrets.long, secrets.order[0])
		secrets.order = secrets.order[1:]
	}
	secrets.grams, secrets.whole = map[string]struct{}{}, nil
	for v := range secrets.long {
		for _, f := range secrets.forms[v] {
			if len(f) <= fragment {
				continue
			}
			secrets.whole = append(secrets.whole, f)
			for i := 0; i+fragment <= len(f); i++ {
				secrets.grams[f[i:i+fragment]] = struct{}{}
			}
		}
	}
}

// resetCredentials forgets every registered value (for tests).
func resetCredentials() {
	secrets.Lock()
	defer secrets.Unlock()
	secrets.order, secrets.forms, secrets.long, secrets.grams, secrets.whole = nil, nil, nil, nil, nil
}

// formsOf lists the ways a value may be written back to us.
func formsOf(v string) []string {
	cands := []string{v, strings.TrimSpace(v), url.QueryEscape(v), url.PathEscape(v),
		base64.StdEncoding.EncodeToString([]byte(v)), base64.URLEncoding.EncodeToString([]byte(v)),
		base64.RawStdEncoding.EncodeToString([]byte(v)), base64.RawURLEncoding.EncodeToString([]byte(v))}
	for _, c := range cands[2:4] {
		cands = append(cands, lowerHex(c))
	}
	seen := map[string]bool{}
	var out []string
	for _, c := range cands {
		if c != "" && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// lowerHex rewrites the hex digits of percent escapes in lower case.
func lowerHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = lowerASCII(b[i+1]), lowerASCII(b[i+2])
		}
	}
	return string(b)
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// Redact returns s with every credential value removed (see the rule above).
func Redact(s string) string {
	if s == "" {
		return s
	}
	RegisterCredentials(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"))
	register(os.Getenv("AWS_SECURITY_TOKEN"), true)

	var spans [][2]int
	secrets.RLock()
	for _, forms := range secrets.forms {
		for _, f := range forms {
			spans = appendOccurrences(spans, s, f)
		}
	}
	if len(secrets.grams) > 0 {
		for i := 0; i+fragment <= len(s); i++ {
			if _, ok := secrets.grams[s[i:i+fragment]]; !ok {
				continue
			}
			j := i + fragment
			for j < len(s) && containsAny(secrets.whole, s[i:j+1]) {
				j++
			}
			spans = append(spans, [2]int{i, j})
			i = j - 1
		}
	}
	secrets.RUnlock()
	for _, m := range credentialField.FindAllStringSubmatchIndex(s, -1) {
		if s[m[4]:m[5]] != redacted {
			spans = append(spans, [2]int{m[4], m[5]})
		}
	}
	if len(spans) == 0 {
		return s
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
	// Overlapping and touching spans become one "***".
	merged := spans[:1]
	for _, sp := range spans[1:] {
		if last := &merged[len(merged)-1]; sp[0] <= last[1] {
			last[1] = max(last[1], sp[1])
		} else {
			merged = append(merged, sp)
		}
	}
	var b strings.Builder
	at := 0
	for _, sp := range merged {
		b.WriteString(s[at:sp[0]])
		b.WriteString(redacted)
		at = sp[1]
	}
	b.WriteString(s[at:])
	return b.String()
}

// appendOccurrences adds the spans where form occurs in s: anywhere for a form
// of wordForm bytes or more, as a whole word for a shorter one.
func appendOccurrences(spans [][2]int, s, form string) [][2]int {
	for from := 0; ; {
		i := strings.Index(s[from:], form)
		if i < 0 {
			return spans
		}
		i += from
		end := i + len(form)
		if len(form) >= wordForm || (!wordByte(s, i-1) && !wordByte(s, end)) {
			spans = append(spans, [2]int{i, end})
		}
		from = i + 1
	}
}

// wordByte reports whether s[i] exists and is a letter or a digit.
func wordByte(s string, i int) bool {
	if i < 0 || i >= len(s) {
		return false
	}
	c := s[i]
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c >= 0x80
}

func containsAny(forms []string, s string) bool {
	for _, f := range forms {
		if strings.Contains(f, s) {
			return true
		}
	}
	return false
}
