// Package httpapi serves Gantry's tasks over HTTP: JSON under /v1, RFC 9457
// problem details for every error, request IDs, access logs, Prometheus
// metrics and the liveness and readiness probes. It knows the domain through
// task.Store only; which database sits behind it is not its business.
package httpapi
