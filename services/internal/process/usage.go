package process

import "errors"

// UsageError is a mistake in the command line: exit status 2, as the flag
// package and most Unix tools do. The usage, if any, follows the message.
type UsageError struct {
	Msg   string
	Usage string
}

func (e UsageError) Error() string {
	if e.Usage == "" {
		return e.Msg
	}
	return e.Msg + "\n" + e.Usage
}

// ExitCode is the status a command's error exits with: 2 for a usage
// error, 1 for anything else.
func ExitCode(err error) int {
	var u UsageError
	if errors.As(err, &u) {
		return 2
	}
	return 1
}
