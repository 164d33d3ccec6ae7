// Command demo is `make demo`: it starts private PostgreSQL and ClickHouse servers, runs cdcd on a
// small shop (customers and orders, written to continuously), and shows the ClickHouse tables
// filling live until Ctrl-C (or -for).
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/jackc/pgx/v5"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

func main() {
	duration := flag.Duration("for", 0, "stop after this long (0: until Ctrl-C)")
	flag.Parse()
	err := run(*duration)
	testenv.StopAll()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

const shopDDL = `
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email text, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL,
  account_id int NOT NULL,
  status text NOT NULL,
  amount numeric(12,2) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now());
ALTER TABLE orders REPLICA IDENTITY FULL;
INSERT INTO customers (id, name, email) SELECT g, 'customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, 50) g;
INSERT INTO orders (id, customer_id, account_id, status, amount)
  SELECT g, 1 + g % 50, 1 + g % 5, 'paid', (g % 300) + 0.99 FROM generate_series(1, 200) g;
`

func run(duration time.Duration) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, duration)
		defer cancel()
	}
	dir, err := os.MkdirTemp("", "cdcd-demo-")
	if err != nil {
		return err
	}
	bin := filepath.Join(dir, "cdcd")
	fmt.Println("building cdcd ...")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/cdcd").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	fmt.Println("starting PostgreSQL and ClickHouse ...")
	pg, err := testenv.PostgresServer()
	if err != nil {
		return err
	}
	ch, err := testenv.ClickHouseServer()
	if err != nil {
		return err
	}
	admin, err := pgx.Connect(ctx, pg.DSN("postgres"))
	if err != nil {
		return err
	}
	_, err = admin.Exec(ctx, "CREATE DATABASE shop")
	admin.Close(ctx)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, pg.DSN("shop"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, shopDDL); err != nil {
		return err
	}

	cfg := filepath.Join(dir, "cdcd.yaml")
	cfgText := fmt.Sprintf(`clickhouse:
  addr: [%q]
  database: cdc
registry:
  listen: %q
sources:
  - name: shop
    postgres:
      dsn: %q
      tables: [public.orders, public.customers]
`, ch.Addr(), freeAddr(), pg.DSN("shop"))
	if err := os.WriteFile(cfg, []byte(cfgText), 0o600); err != nil {
		return err
	}
	logPath := filepath.Join(dir, "cdcd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	daemon := exec.Command(bin, "run", "--config", cfg)
	daemon.Stdout, daemon.Stderr = logFile, logFile
	daemon.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := daemon.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- daemon.Wait() }()
	defer func() {
		_ = daemon.Process.Signal(syscall.SIGTERM)
		<-exited
		logFile.Close()
		os.RemoveAll(dir)
	}()
	fmt.Printf(`
cdcd is running (config %s, log %s).
  PostgreSQL:  psql '%s'
  ClickHouse:  clickhouse-client --host %s --port %d --database cdc
A workload writes orders; the ClickHouse views below follow it. Ctrl-C stops everything.

`, cfg, logPath, pg.DSN("shop"), ch.Host, ch.Port)

	chConn, err := ch.Open("default")
	if err != nil {
		return err
	}
	defer chConn.Close()
	go workload(ctx, conn)
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fmt.Println("stopping ...")
			return nil
		case err := <-exited:
			exited <- err
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("cdcd exited (%v); its log:\n%s", err, log)
		case <-t.C:
			show(ctx, chConn)
		}
	}
}

// freeAddr returns a free 127.0.0.1 address for the embedded registry.
func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:8081"
	}
	defer l.Close()
	return l.Addr().String()
}

// workload writes a trickle of shop activity: new orders, payments, refunds, new customers.
func workload(ctx context.Context, conn *pgx.Conn) {
	rng := rand.New(rand.NewPCG(1, 2))
	next := int64(1000)
	for ctx.Err() == nil {
		next++
		var err error
		switch r := rng.IntN(10); {
		case r < 6:
			_, err = conn.Exec(ctx, "INSERT INTO orders (id, customer_id, account_id, status, amount) VALUES ($1, $2, $3, 'new', $4)",
				next, 1+rng.IntN(50), 1+rng.IntN(5), fmt.Sprintf("%d.%02d", rng.IntN(500), rng.IntN(100)))
		case r < 8:
			_, err = conn.Exec(ctx, "UPDATE orders SET status = 'paid' WHERE id = (SELECT id FROM orders WHERE status = 'new' ORDER BY random() LIMIT 1)")
		case r < 9:
			_, err = conn.Exec(ctx, "DELETE FROM orders WHERE id = (SELECT id FROM orders ORDER BY random() LIMIT 1)")
		default:
			_, err = conn.Exec(ctx, "INSERT INTO customers (id, name) VALUES ($1, $2)", next, fmt.Sprintf("customer %d", next))
		}
		if err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "workload:", err)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func show(ctx context.Context, conn driver.Conn) {
	w := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	defer w.Flush()
	var orders, customers uint64
	var revenue string
	_ = conn.QueryRow(ctx, "SELECT count(), toString(sum(amount)) FROM cdc.shop_public_orders_current").Scan(&orders, &revenue)
	_ = conn.QueryRow(ctx, "SELECT count() FROM cdc.shop_public_customers_current").Scan(&customers)
	fmt.Fprintf(w, "%s\torders %d\tcustomers %d\trevenue %s\n", time.Now().Format("15:04:05"), orders, customers, revenue)
	rows, err := conn.Query(ctx, `SELECT toString(account_id), toString(count()), toString(sum(amount)), toString(countIf(status = 'paid'))
		FROM cdc.shop_public_orders_current GROUP BY account_id ORDER BY account_id`)
	if err != nil {
		return
	}
	defer rows.Close()
	fmt.Fprintln(w, "\taccount\torders\tamount\tpaid")
	for rows.Next() {
		var a, n, s, p string
		if rows.Scan(&a, &n, &s, &p) == nil {
			fmt.Fprintf(w, "\t%s\t%s\t%s\t%s\n", a, n, s, p)
		}
	}
}
