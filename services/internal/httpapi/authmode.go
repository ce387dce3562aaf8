//go:build !gantry_noauth

package httpapi

// authRequired: every /v1 route needs a bearer token. Only a binary built
// with -tags gantry_noauth, which the benchmark builds to measure what
// authentication costs, answers without one; no setting can turn it off.
const authRequired = true
