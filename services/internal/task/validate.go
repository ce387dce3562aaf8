package task

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on text fields. Titles are counted in characters, not bytes, after
// trimming, so "  a  " is a valid one-character title.
const (
	MaxTitle       = 200
	MaxDescription = 10000
)

// Validator collects every rule a request breaks, so a client learns about
// all of them at once rather than one per round trip.
type Validator struct {
	fields []FieldError
}

// Fail records that field broke a rule.
func (v *Validator) Fail(field, message string) {
	v.fields = append(v.fields, FieldError{Field: field, Message: message})
}

// Err returns an Invalid *Error listing every failure, or nil.
func (v *Validator) Err() error {
	if len(v.fields) == 0 {
		return nil
	}
	msg := v.fields[0].Field + ": " + v.fields[0].Message
	if len(v.fields) > 1 {
		msg = "the request has invalid fields"
	}
	return &Error{Kind: Invalid, Message: msg, Fields: v.fields}
}

// Title trims s and checks it; the trimmed value is what gets stored.
func (v *Validator) Title(s string) string {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		v.Fail("title", "must not be empty")
	case n > MaxTitle:
		v.Fail("title", "must be at most 200 characters")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		v.Fail("title", "must not contain control characters such as newlines")
	}
	return s
}

// Description checks s. PostgreSQL text cannot hold NUL, so it is refused
// here rather than failing in the database.
func (v *Validator) Description(s string) string {
	switch {
	case utf8.RuneCountInString(s) > MaxDescription:
		v.Fail("description", "must be at most 10000 characters")
	case strings.IndexByte(s, 0) >= 0:
		v.Fail("description", "must not contain NUL characters")
	}
	return s
}

// Status checks s and returns it typed.
func (v *Validator) Status(s string) Status {
	st := Status(s)
	if !st.Valid() {
		v.Fail("status", `must be one of "todo", "doing", "done"`)
	}
	return st
}

// DueDate parses s as YYYY-MM-DD.
func (v *Validator) DueDate(s string) *Date {
	d, err := ParseDate(s)
	if err != nil {
		v.Fail("due_date", "must be a date in the form YYYY-MM-DD")
		return nil
	}
	return &d
}
