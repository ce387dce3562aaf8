// Package process is what every Gantry binary shares about being a
// process: its logger, the admin listener (metrics and probes), readiness,
// how it starts, serves and drains on SIGTERM, and the healthcheck
// subcommand a distroless image needs. It knows no domain.
package process
