package httpapi

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestCheckIJSON(t *testing.T) {
	tests := []struct {
		name, body string
		want       string // a part of the error, or "" for none
	}{
		{"a flat object passes", `{"title":"a","status":"todo"}`, ""},
		{"nested objects may repeat each other's names", `{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":1}]}`, ""},
		{"a surrogate pair passes", `{"title":"\ud83d\ude00"}`, ""},
		{"escapes that are no surrogates pass", `{"title":"\u00e9\n\"\\\u20ac"}`, ""},
		{"a name given twice is refused, named", `{"title":"a","title":"b"}`, `the member "title" more than once`},
		{"a name given twice through an escape is refused", `{"title":"a","\u0074itle":"b"}`, `the member "title" more than once`},
		{"a name repeated inside a nested object is refused", `{"a":{"x":1,"x":2}}`, `the member "x" more than once`},
		{"a lone high surrogate is refused", `{"title":"\ud800"}`, "lone UTF-16 surrogate"},
		{"a lone low surrogate is refused", `{"title":"\udc00x"}`, "lone UTF-16 surrogate"},
		{"a high surrogate before a non-surrogate escape is refused", `{"title":"\ud800\u0041"}`, "lone UTF-16 surrogate"},
		{"two high surrogates are refused", `{"title":"\ud800\ud800"}`, "lone UTF-16 surrogate"},
		{"a lone surrogate in a name is refused", `{"\udbff":1}`, "lone UTF-16 surrogate"},
		{"a lone surrogate in an array is refused", `{"tags":["ok","\ud801"]}`, "lone UTF-16 surrogate"},
		{"an escaped backslash before u is no escape", `{"title":"\\ud800"}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !json.Valid([]byte(tc.body)) {
				t.Fatalf("the test body %s is not valid JSON", tc.body)
			}
			err := checkIJSON([]byte(tc.body))
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
