package httpapi

import (
	"encoding/json"
	"strconv"
)

// checkIJSON refuses what RFC 7493 (I-JSON) forbids and encoding/json lets
// through silently: an object with a member name twice (the last would
// win) and a string with a lone UTF-16 surrogate escape (it would become
// U+FFFD). body must already be valid JSON.
func checkIJSON(body []byte) error {
	s := ijsonScanner{b: body}
	return s.value()
}

type ijsonScanner struct {
	b []byte
	i int
}

func (s *ijsonScanner) skipSpace() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *ijsonScanner) value() error {
	s.skipSpace()
	if s.i >= len(s.b) {
		return nil
	}
	switch s.b[s.i] {
	case '{':
		return s.object()
	case '[':
		return s.array()
	case '"':
		_, err := s.str()
		return err
	}
	for s.i < len(s.b) && !isDelimiter(s.b[s.i]) { // a number, true, false or null
		s.i++
	}
	return nil
}

func isDelimiter(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

func (s *ijsonScanner) object() error {
	s.i++ // {
	var names map[string]bool
	for {
		s.skipSpace()
		if s.i >= len(s.b) || s.b[s.i] == '}' {
			s.i++
			return nil
		}
		raw, err := s.str()
		if err != nil {
			return err
		}
		name := raw
		if err := json.Unmarshal([]byte(raw), &name); err != nil { // "\u0061" and "a" are one name
			return badRequest("the request body is not valid JSON")
		}
		if names == nil {
			names = map[string]bool{}
		}
		if names[name] {
			return badRequest("the request body has the member %s more than once; send each member once (RFC 7493)", strconv.Quote(truncate(name, 64)))
		}
		names[name] = true
		s.skipSpace()
		s.i++ // :
		if err := s.value(); err != nil {
			return err
		}
		s.skipSpace()
		if s.i < len(s.b) && s.b[s.i] == ',' {
			s.i++
		}
	}
}

func (s *ijsonScanner) array() error {
	s.i++ // [
	for {
		s.skipSpace()
		if s.i >= len(s.b) || s.b[s.i] == ']' {
			s.i++
			return nil
		}
		if err := s.value(); err != nil {
			return err
		}
		s.skipSpace()
		if s.i < len(s.b) && s.b[s.i] == ',' {
			s.i++
		}
	}
}

// str scans a string literal, quotes included, and checks that every
// surrogate escape is half of a pair: a high one (\ud800-\udbff) followed
// at once by a low one (\udc00-\udfff).
func (s *ijsonScanner) str() (string, error) {
	start := s.i
	s.i++ // "
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			s.i++
			return string(s.b[start:s.i]), nil
		case '\\':
			if s.i+1 < len(s.b) && s.b[s.i+1] == 'u' {
				if err := s.unicodeEscape(); err != nil {
					return "", err
				}
				continue
			}
			s.i += 2
		default:
			s.i++
		}
	}
	return string(s.b[start:]), nil
}

var errLoneSurrogate = badRequest(`the request body has a lone UTF-16 surrogate escape (such as "\ud800") in a string, which is no character; escape a character outside the Basic Multilingual Plane as a surrogate pair, or send it as UTF-8 (RFC 7493)`)

// unicodeEscape reads \uXXXX at s.i, and its low half if it is a high one.
func (s *ijsonScanner) unicodeEscape() error {
	r, ok := s.hex4(s.i + 2)
	s.i += 6
	switch {
	case !ok:
		return nil // not valid JSON; json.Unmarshal has said so already
	case r >= 0xDC00 && r <= 0xDFFF:
		return errLoneSurrogate
	case r < 0xD800 || r > 0xDBFF:
		return nil
	}
	if s.i+1 >= len(s.b) || s.b[s.i] != '\\' || s.b[s.i+1] != 'u' {
		return errLoneSurrogate
	}
	lo, ok := s.hex4(s.i + 2)
	if !ok || lo < 0xDC00 || lo > 0xDFFF {
		return errLoneSurrogate
	}
	s.i += 6
	return nil
}

func (s *ijsonScanner) hex4(at int) (rune, bool) {
	if at+4 > len(s.b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(s.b[at:at+4]), 16, 16)
	return rune(n), err == nil
}
