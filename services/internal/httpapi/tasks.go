package httpapi

import (
	"errors"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/gantry-dev/gantry/services/internal/keyset"
	"github.com/gantry-dev/gantry/services/internal/task"
)

// List limits: a default that suits a screen, a cap that bounds the cost of
// one request whatever a client asks for.
const (
	defaultLimit = 20
	maxLimit     = 100
)

func (a *api) createTask(w http.ResponseWriter, r *http.Request) {
	n, err := decodeNew(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	t, err := a.store.Create(r.Context(), n)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/tasks/"+t.ID.String())
	a.writeTask(w, r, http.StatusCreated, t)
}

func (a *api) getTask(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	cached, err := ifNoneMatch(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	t, err := a.store.Get(r.Context(), id)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if cached.match(etag(t)) {
		w.Header().Set("ETag", etag(t))
		w.WriteHeader(http.StatusNotModified)
		return
	}
	a.writeTask(w, r, http.StatusOK, t)
}

func (a *api) listTasks(w http.ResponseWriter, r *http.Request) {
	f, err := parseFilter(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	page, err := a.store.List(r.Context(), f)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := listJSON{Items: make([]task.Document, len(page.Tasks))}
	for i, t := range page.Tasks {
		out.Items[i] = task.DocumentOf(t)
	}
	if page.Next != nil {
		c := page.Next.String()
		out.NextCursor = &c
	}
	a.write(w, r, http.StatusOK, out)
}

func (a *api) updateTask(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	pre, err := ifMatch(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	p, err := decodePatch(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	t, err := a.store.Update(r.Context(), id, p, pre)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.writeTask(w, r, http.StatusOK, t)
}

func (a *api) deleteTask(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	pre, err := ifMatch(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.store.Delete(r.Context(), id, pre); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *api) writeTask(w http.ResponseWriter, r *http.Request, status int, t task.Task) {
	w.Header()["Etag"] = []string{etag(t)} // the canonical form of ETag
	a.write(w, r, status, task.DocumentOf(t))
}

// fail answers a request-level error with its own status, and a domain
// error through writeError.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	var re *requestError
	if errors.As(err, &re) {
		writeProblem(w, r, re.status, re.msg)
		return
	}
	a.writeError(w, r, err)
}

func pathID(r *http.Request) (task.ID, error) {
	s := mux.Vars(r)["id"]
	id, err := task.ParseID(s)
	if err != nil {
		return id, badRequest("%q is not a task ID; IDs are UUIDs such as 0b6cbe5e-8b47-4c84-9d6c-3f1e1d3b2c11", truncate(s, 64))
	}
	return id, nil
}

var listParams = []string{"status", "limit", "cursor"}

func parseFilter(r *http.Request) (task.Filter, error) {
	f := task.Filter{Limit: defaultLimit}
	q, err := parseQuery(r, listParams)
	if err != nil {
		return f, err
	}
	if s := q.Get("status"); s != "" {
		st := task.Status(s)
		if !st.Valid() {
			return f, badRequest(`status %q is not one of "todo", "doing", "done"`, truncate(s, 64))
		}
		f.Status = &st
	}
	f.After, f.Limit, err = pageOf(q)
	return f, err
}

// parsePage reads the query of a listing that takes only a page.
func parsePage(r *http.Request) (*keyset.Cursor, int, error) {
	q, err := parseQuery(r, pageParams)
	if err != nil {
		return nil, 0, err
	}
	return pageOf(q)
}

var pageParams = []string{"limit", "cursor"}

// parseQuery parses r's query string, refusing parameters not in allowed.
func parseQuery(r *http.Request, allowed []string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, badRequest("the query string is malformed; percent-encode special characters")
	}
	return q, checkParams(q, allowed)
}

// pageOf reads limit and cursor: the page every listing takes.
func pageOf(q url.Values) (*keyset.Cursor, int, error) {
	limit := defaultLimit
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, 0, badRequest("limit %q must be a whole number of at least 1", truncate(s, 64))
		}
		limit = min(n, maxLimit)
	}
	if s := q.Get("cursor"); s != "" {
		c, err := keyset.ParseCursor(s)
		if err != nil {
			return nil, 0, badRequest("cursor is malformed; pass the next_cursor value of a previous page unchanged")
		}
		return &c, limit, nil
	}
	return nil, limit, nil
}

// checkParams refuses unknown and repeated parameters. Of two values, using
// one and dropping the other would answer a question the client did not
// ask. Keys are sorted so that the message is the same on every try.
func checkParams(q url.Values, allowed []string) error {
	for _, k := range slices.Sorted(maps.Keys(q)) {
		switch {
		case !slices.Contains(allowed, k):
			return badRequest("unknown query parameter %q; allowed are %s", truncate(k, 64), strings.Join(allowed, ", "))
		case len(q[k]) > 1:
			return badRequest("query parameter %q is given more than once; give it once", k)
		}
	}
	return nil
}

// ifMatch reads an If-Match header into a precondition. Our ETags are
// quoted versions; any other well-formed tag can never match, so it yields
// an impossible version and the store answers 412.
func ifMatch(r *http.Request) (task.Precondition, error) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	switch {
	case h == "" || h == "*":
		return task.Precondition{}, nil
	case strings.Contains(h, ","):
		return task.Precondition{}, badRequest("If-Match with several entity tags is not supported; send the one ETag you last received")
	case strings.HasPrefix(h, "W/"):
		return task.Precondition{Version: -1}, nil // weak tags never match If-Match
	case len(h) < 2 || h[0] != '"' || h[len(h)-1] != '"':
		return task.Precondition{}, badRequest("If-Match must be an entity tag in double quotes, as sent in the ETag header")
	}
	if v, err := strconv.ParseInt(h[1:len(h)-1], 10, 64); err == nil && v >= 1 {
		return task.Precondition{Version: v}, nil
	}
	return task.Precondition{Version: -1}, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// entityTags is a parsed If-None-Match: "*", or the opaque part of each
// listed tag. W/ is dropped because If-None-Match compares weakly (RFC 9110
// 13.1.2): W/"1" and "1" name the same version.
type entityTags struct {
	star   bool
	opaque []string
}

func (e entityTags) match(current string) bool {
	return e.star || slices.Contains(e.opaque, strings.TrimPrefix(current, "W/"))
}

var errIfNoneMatch = badRequest(`If-None-Match must be * or a comma-separated list of entity tags in double quotes, such as "3", W/"4"`)

// ifNoneMatch reads every If-None-Match line as one list, since RFC 9110
// lets a sender split a list field across lines. Empty elements are
// skipped, as RFC 9110 5.6.1 asks of recipients.
func ifNoneMatch(r *http.Request) (entityTags, error) {
	lines := r.Header.Values("If-None-Match")
	if len(lines) == 0 {
		return entityTags{}, nil
	}
	rest := strings.Join(lines, ",")
	if strings.TrimSpace(rest) == "*" {
		return entityTags{star: true}, nil
	}
	var e entityTags
	for rest = strings.TrimLeft(rest, " \t,"); rest != ""; rest = strings.TrimLeft(rest, " \t,") {
		opaque, after, ok := cutETag(rest)
		if !ok {
			return entityTags{}, errIfNoneMatch
		}
		e.opaque = append(e.opaque, opaque)
		rest = after
	}
	return e, nil
}

// cutETag splits one entity tag off the front of s, with the white space
// after it, and returns its opaque part, quotes included, without any W/.
// Only a comma or the end may follow a tag.
func cutETag(s string) (opaque, rest string, ok bool) {
	s = strings.TrimPrefix(s, "W/")
	if len(s) < 2 || s[0] != '"' {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '"') + 2
	if end < 2 {
		return "", "", false
	}
	rest = strings.TrimLeft(s[end:], " \t")
	if rest != "" && rest[0] != ',' {
		return "", "", false
	}
	return s[:end], rest, true
}
