// Command demo starts private PostgreSQL, MariaDB and ClickHouse servers and prints how to connect
// to them; it stops them on Ctrl-C. It is what `make demo` runs.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		testenv.StopAll()
		os.Exit(1)
	}
}

func run() error {
	pg, err := testenv.PostgresServer()
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	my, err := testenv.MariaDBServer()
	if err != nil {
		return fmt.Errorf("mariadb: %w", err)
	}
	ch, err := testenv.ClickHouseServer()
	if err != nil {
		return fmt.Errorf("clickhouse: %w", err)
	}
	fmt.Printf("PostgreSQL: psql '%s'\n", pg.DSN("postgres"))
	fmt.Printf("MariaDB:    mariadb --protocol=TCP -h %s -P %d -u %s\n", my.Host, my.Port, my.User)
	fmt.Printf("ClickHouse: clickhouse-client --host %s --port %d\n", ch.Host, ch.Port)
	fmt.Println("Ctrl-C stops the servers.")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	testenv.StopAll()
	return nil
}
