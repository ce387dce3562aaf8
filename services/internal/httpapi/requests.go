package httpapi

import (
	"net/http"

	"github.com/gantry-dev/gantry/services/internal/task"
)

var taskFields = []string{"title", "description", "status", "due_date"}

// decodeNew turns a POST body into a validated task.New; null is the same
// as absent for the optional members.
func decodeNew(r *http.Request) (task.New, error) {
	obj, err := readObject(r)
	if err != nil {
		return task.New{}, err
	}
	var v task.Validator
	f := fields{obj, &v}
	f.allowOnly(taskFields...)
	n := task.New{Status: task.StatusTodo}
	switch s, p := f.str("title"); p {
	case set:
		n.Title = v.Title(s)
	case absent, null:
		v.Fail("title", "is required")
	}
	if s, p := f.str("description"); p == set {
		n.Description = v.Description(s)
	}
	if s, p := f.str("status"); p == set {
		n.Status = v.Status(s)
	}
	if s, p := f.str("due_date"); p == set {
		n.DueDate = v.DueDate(s)
	}
	return n, v.Err()
}

// decodePatch turns a PATCH body (JSON merge patch semantics) into a
// validated task.Patch: absent members stay as they are, null clears the
// optional ones and is refused for the others.
func decodePatch(r *http.Request) (task.Patch, error) {
	obj, err := readObject(r)
	if err != nil {
		return task.Patch{}, err
	}
	var v task.Validator
	f := fields{obj, &v}
	f.allowOnly(taskFields...)
	var pt task.Patch
	switch s, p := f.str("title"); p {
	case set:
		t := v.Title(s)
		pt.Title = &t
	case null:
		v.Fail("title", "cannot be null; a task always has a title")
	}
	if s, p := f.str("description"); p == set || p == null {
		d := v.Description(s)
		pt.Description = &d
	}
	switch s, p := f.str("status"); p {
	case set:
		st := v.Status(s)
		pt.Status = &st
	case null:
		v.Fail("status", "cannot be null")
	}
	switch s, p := f.str("due_date"); p {
	case set:
		pt.DueDate = v.DueDate(s)
	case null:
		pt.ClearDue = true
	}
	return pt, v.Err()
}
