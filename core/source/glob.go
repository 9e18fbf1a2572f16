package source

import (
	"fmt"
	"path"
	"strings"
)

// A Pattern is one glob after brace expansion: '/'-separated segments where a
// segment may use path.Match syntax (*, ?, [...]) and the segment "**" matches any
// number of whole segments, including none.
type Pattern struct {
	text     string
	segments []string
}

// HasMeta reports whether s contains glob syntax. Strings without it are taken
// literally even when globbing is on, which keeps odd but plain file names working.
func HasMeta(s string) bool {
	return strings.ContainsAny(s, "*?[{")
}

// CompileGlob expands braces in glob and checks every alternative's syntax.
func CompileGlob(glob string) ([]Pattern, error) {
	alts, err := expandBraces(glob)
	if err != nil {
		return nil, err
	}
	out := make([]Pattern, 0, len(alts))
	for _, a := range alts {
		p, err := compilePattern(a, glob)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// compilePattern checks one alternative of glob (after brace expansion).
func compilePattern(text, glob string) (Pattern, error) {
	segs := strings.Split(text, "/")
	for i, s := range segs {
		if s == "**" {
			continue
		}
		s = shellNegation(s)
		segs[i] = s
		if strings.Contains(s, "**") {
			return Pattern{}, fmt.Errorf("invalid glob %q: '**' must be a whole path segment", glob)
		}
		if _, err := path.Match(s, ""); err != nil {
			return Pattern{}, fmt.Errorf("invalid glob %q: %w", glob, err)
		}
	}
	return Pattern{text: text, segments: segs}, nil
}

// shellNegation rewrites the shell's class negation "[!...]", which Polars and
// Python's glob use, into path.Match's "[^...]". Without it "[!a]" matched "a" and
// "!" instead of everything but "a".
func shellNegation(seg string) string {
	if !strings.Contains(seg, "[!") {
		return seg
	}
	b := []byte(seg)
	for i := 0; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++ // an escaped character is literal
		case '[':
			if i+1 < len(b) && b[i+1] == '!' {
				b[i+1] = '^'
			}
			for i++; i < len(b) && b[i] != ']'; i++ { // skip the class
				if b[i] == '\\' {
					i++
				}
			}
		}
	}
	return string(b)
}

// LiteralPrefix is the part of the pattern before its first glob character. Listing
// starts there: a directory walk on disk, a ListObjectsV2 prefix on S3.
func (p Pattern) LiteralPrefix() string {
	i := strings.IndexAny(p.text, "*?[")
	if i < 0 {
		return p.text
	}
	return p.text[:i]
}

// LiteralDir is the longest directory of the literal prefix (ending in '/', or "").
func (p Pattern) LiteralDir() string {
	prefix := p.LiteralPrefix()
	return prefix[:strings.LastIndex(prefix, "/")+1]
}

// Recursive reports whether the pattern can match at any depth.
func (p Pattern) Recursive() bool {
	for _, s := range p.segments {
		if s == "**" {
			return true
		}
	}
	return false
}

// Depth is the number of segments a match has when the pattern is not recursive.
func (p Pattern) Depth() int { return len(p.segments) }

// Match reports whether name (a '/'-separated path) matches the whole pattern.
func (p Pattern) Match(name string) bool {
	return matchSegments(p.segments, strings.Split(name, "/"))
}

func matchSegments(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			// Collapse runs of "**" and try every split point.
			rest := pat[1:]
			for len(rest) > 0 && rest[0] == "**" {
				rest = rest[1:]
			}
			if len(rest) == 0 {
				return len(name) > 0
			}
			for i := 0; i < len(name); i++ {
				if matchSegments(rest, name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		ok, _ := path.Match(pat[0], name[0])
		if !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

// expandBraces turns "a{b,c}d" into ["abd", "acd"], recursively, so the rest of the
// matcher only deals with path.Match syntax.
func expandBraces(s string) ([]string, error) {
	open := strings.IndexByte(s, '{')
	if open < 0 {
		if strings.IndexByte(s, '}') >= 0 {
			return nil, fmt.Errorf("invalid glob %q: unmatched '}'", s)
		}
		return []string{s}, nil
	}
	depth, close := 0, -1
	var commas []int
	for i := open; i < len(s) && close < 0; i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				close = i
			}
		case ',':
			if depth == 1 {
				commas = append(commas, i)
			}
		}
	}
	if close < 0 {
		return nil, fmt.Errorf("invalid glob %q: unmatched '{'", s)
	}
	var parts []string
	start := open + 1
	for _, c := range commas {
		parts = append(parts, s[start:c])
		start = c + 1
	}
	parts = append(parts, s[start:close])
	var out []string
	for _, part := range parts {
		expanded, err := expandBraces(s[:open] + part + s[close+1:])
		if err != nil {
			return nil, err
		}
		out = append(out, expanded...)
	}
	return out, nil
}
