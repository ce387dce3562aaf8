// Package auth is what an API token is: its format, its checksum, the hash
// it is stored as, and the scopes it grants. It does no I/O; the postgres
// package stores tokens and the httpapi package checks them.
package auth
