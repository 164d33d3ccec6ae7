// Package integration holds cdcd's end-to-end tests: the daemon, built from cmd/cdcd, against the
// real PostgreSQL, MariaDB and ClickHouse servers that internal/testenv starts. Its tests prove
// what no unit test can: exactly-once delivery across SIGKILLs, snapshot plus streaming without gap,
// and the operator's CLI against live servers.
package integration
