// Package postgres keeps Gantry's tasks in PostgreSQL through a pgx pool:
// connecting with retries, the embedded schema migrations, and the Store.
// Every SQL statement the service runs is in this package, in plain sight.
package postgres
