package httpapi

import (
	"net/http"

	"github.com/gantry-dev/gantry/services/internal/process"
)

// readyz answers like the admin listener's /readyz, with the request ID in
// a failure's problem, as every problem of this listener has.
func (a *api) readyz(w http.ResponseWriter, r *http.Request) {
	if why := a.ready.Check(r.Context()); why != "" {
		writeProblem(w, r, http.StatusServiceUnavailable, why)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(process.ReadyBody()) // a client that hung up needs no answer
}
