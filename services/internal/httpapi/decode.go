package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gantry-dev/gantry/services/internal/task"
)

// MaxBody is the largest request body accepted; larger ones get 413.
const MaxBody = 1 << 20

// requestError is a request that cannot be understood at all; it becomes a
// problem with its status and message.
type requestError struct {
	status int
	msg    string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// errTooSlow answers a request whose body did not arrive within the request
// timeout. Reading the body is the only wait before the store is called that
// the client controls; were it let through, the store would start with a
// spent deadline and a slow client would be blamed on the database (503).
var errTooSlow = &requestError{http.StatusRequestTimeout,
	"the request body did not arrive in time; send the whole request again without pausing"}

// tooSlow reports a body read that timed out, or that ended, successfully
// or not, once the request's context was over: its deadline passed, or the
// client hung up, when the status no longer matters. A request without a
// body cannot spend its deadline before the store call, so only body reads
// check.
func tooSlow(r *http.Request, readErr error) bool {
	var netErr net.Error
	return r.Context().Err() != nil || pastDeadline(r.Context()) || errors.As(readErr, &netErr) && netErr.Timeout()
}

// pastDeadline sees a deadline that has passed before ctx.Err() does: the
// timer that sets Err runs late on a busy machine, and this check must not
// depend on it.
func pastDeadline(ctx context.Context) bool {
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// readObject reads a JSON object body and returns its members undecoded.
// Each check happens before anything is stored, and each failure says what
// the client must change.
func readObject(r *http.Request) (map[string]json.RawMessage, error) {
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, &requestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", tooBig.Limit)}
	case tooSlow(r, err):
		return nil, errTooSlow
	case err != nil:
		return nil, badRequest("the request body could not be read")
	case len(bytes.TrimSpace(body)) == 0:
		return nil, badRequest("the request body is empty; send a JSON object")
	case !utf8.Valid(body):
		return nil, badRequest("the request body is not valid UTF-8")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, jsonError(err)
	}
	if err := checkIJSON(body); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, badRequest("the request body must be a JSON object, not null")
	}
	return obj, nil
}

// checkContentType insists on JSON when a type is given. A missing header is
// allowed, but curl's default form encoding is refused with a hint.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return &requestError{http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Type %q is not supported; send application/json", ct)}
}

func jsonError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return badRequest("the request body is not valid JSON (at byte %d: %s)", syntax.Offset, strings.TrimPrefix(syntax.Error(), "invalid character "))
	case errors.As(err, &typ):
		return badRequest("the request body must be a JSON object, not %s", typ.Value)
	}
	return badRequest("the request body is not valid JSON")
}

// fields reads typed members out of a decoded object and records every
// problem in a task.Validator, so one response lists all of them.
type fields struct {
	obj map[string]json.RawMessage
	v   *task.Validator
}

// allowOnly flags every member not in names, sorted so messages are stable.
func (f fields) allowOnly(names ...string) {
	var unknown []string
	for k := range f.obj {
		if !slices.Contains(names, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		f.v.Fail(k, "is not a known field; allowed fields are "+strings.Join(names, ", "))
	}
}

// presence says whether and how a member appeared in the object.
type presence int

const (
	absent    presence = iota
	null               // explicit JSON null: PATCH uses it to clear a value
	set                // a value of the right type
	wrongType          // already recorded in the Validator
)

// str returns a string member and how it was present.
func (f fields) str(name string) (string, presence) {
	raw, ok := f.obj[name]
	switch {
	case !ok:
		return "", absent
	case string(raw) == "null":
		return "", null
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		f.v.Fail(name, "must be a string, not "+jsonKind(raw))
		return "", wrongType
	}
	return s, set
}

// jsonKind names the JSON type of raw for error messages.
func jsonKind(raw json.RawMessage) string {
	switch raw[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case '"':
		return "a string"
	}
	return "a number"
}
