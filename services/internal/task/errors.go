package task

import (
	"errors"
	"fmt"
)

// Kind classifies an Error by what the caller can do about it; the HTTP layer
// maps each Kind to one status code.
type Kind int

// The kinds of failure a Store or a validator reports.
const (
	Internal           Kind = iota // a bug or an unexpected failure
	Invalid                        // the input breaks a rule; FieldErrors say which
	NotFound                       // no such task
	PreconditionFailed             // the task changed since the client read it
	Unavailable                    // the database is down or too slow; retry later
)

// Error separates what a client may be told (Message, Fields) from why it
// happened (Err), which only goes to the log.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError
	Err     error
}

// FieldError names one rule one field broke.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error whose message is safe to show a client.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches a cause that stays out of the public message.
func Wrap(kind Kind, cause error, message string) *Error {
	return &Error{Kind: kind, Message: message, Err: cause}
}

// KindOf returns the Kind of the first *Error in err's chain, and Internal for
// anything else, so unknown failures are never mistaken for client errors.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}
