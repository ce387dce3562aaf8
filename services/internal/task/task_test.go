package task

import (
	"errors"
	"strings"
	"testing"
)

func TestParseID(t *testing.T) {
	tests := []struct {
		name, in string
		ok       bool
	}{
		{"accepts a canonical lower-case UUID", "0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11", true},
		{"accepts upper case", "0B6CBE5E-8B47-4C84-9D6C-3F1E1D3B2C11", true},
		{"rejects a missing dash", "0b6cbe5e8b47-4c84-9d6c-3f1e1d3b2c11a", false},
		{"rejects braces", "{0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c}", false},
		{"rejects a non-hex digit", "0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c1g", false},
		{"rejects an integer", "42", false},
		{"rejects SQL", "1' OR '1'='1", false},
		{"rejects the empty string", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := ParseID(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && id.String() != strings.ToLower(tt.in) {
				t.Fatalf("round trip gave %s", id)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	for in, ok := range map[string]bool{
		"2026-12-31": true, "2028-02-29": true, "2026-02-29": false, "2026-13-01": false,
		"26-12-31": false, "2026-12-31T00:00:00Z": false, "tomorrow": false, "": false,
	} {
		t.Run(in, func(t *testing.T) {
			d, err := ParseDate(in)
			if (err == nil) != ok {
				t.Fatalf("err %v, want ok=%v", err, ok)
			}
			if ok && d.String() != in {
				t.Fatalf("round trip gave %s", d)
			}
		})
	}
}

func TestValidatorTitles(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"trims surrounding space", "  hello \t", "hello", true},
		{"counts characters, not bytes", strings.Repeat("é", 200), strings.Repeat("é", 200), true},
		{"refuses 201 characters", strings.Repeat("a", 201), "", false},
		{"refuses what trims to nothing", " \n ", "", false},
		{"refuses a newline inside", "a\nb", "", false},
		{"refuses NUL", "a\x00b", "", false},
		{"keeps SQL-looking text verbatim", "x'); DROP TABLE tasks;--", "x'); DROP TABLE tasks;--", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v Validator
			got := v.Title(tt.in)
			if err := v.Err(); (err == nil) != tt.ok {
				t.Fatalf("err %v, want ok=%v", err, tt.ok)
			}
			if tt.ok && got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidatorErrorsAreInvalidAndListEveryField(t *testing.T) {
	var v Validator
	v.Title("")
	v.Status("later")
	err := v.Err()
	if KindOf(err) != Invalid {
		t.Fatalf("kind %d", KindOf(err))
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("%T is no *Error", err)
	}
	if len(e.Fields) != 2 {
		t.Fatalf("fields %v", e.Fields)
	}
}
