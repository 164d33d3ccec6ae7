package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/sink/clickhouse"
)

// clickhouseOptions turns the clickhouse section into sink options.
func clickhouseOptions(cfg *config.Config, log *slog.Logger) (clickhouse.Options, error) {
	c := cfg.ClickHouse
	opts := clickhouse.Options{Addr: c.Addr, Database: c.Database, User: c.User, Password: c.Password,
		DialTimeout: time.Duration(c.DialTimeout), Logger: log}
	if c.TLS.Enabled {
		t := &tls.Config{InsecureSkipVerify: c.TLS.InsecureSkipVerify} //nolint:gosec // the operator's explicit choice
		if c.TLS.CAFile != "" {
			pem, err := os.ReadFile(c.TLS.CAFile)
			if err != nil {
				return opts, badInput("clickhouse.tls.ca_file: %v", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return opts, badInput("clickhouse.tls.ca_file: %s holds no PEM certificate", c.TLS.CAFile)
			}
			t.RootCAs = pool
		}
		opts.TLS = t
	}
	return opts, nil
}

// connectClickHouse opens ClickHouse and reads its capabilities.
func connectClickHouse(ctx context.Context, cfg *config.Config, log *slog.Logger) (driver.Conn, clickhouse.Capabilities, error) {
	opts, err := clickhouseOptions(cfg, log)
	if err != nil {
		return nil, clickhouse.Capabilities{}, err
	}
	conn, err := clickhouse.Connect(ctx, opts)
	if err != nil {
		return nil, clickhouse.Capabilities{}, err
	}
	caps, err := clickhouse.DetectCapabilities(ctx, conn)
	if err != nil {
		conn.Close()
		return nil, caps, err
	}
	return conn, caps, nil
}

// openDatabase connects to ClickHouse, for the CLI's commands, and creates the configured
// database (and cdcd's tables that live in it from the start) when missing.
func openDatabase(ctx context.Context, cfg *config.Config, log *slog.Logger) (driver.Conn, clickhouse.Capabilities, error) {
	conn, caps, err := connectClickHouse(ctx, cfg, log)
	if err != nil {
		return nil, caps, err
	}
	if err := clickhouse.EnsureDatabase(ctx, conn, cfg.ClickHouse.Database); err != nil {
		conn.Close()
		return nil, caps, err
	}
	return conn, caps, nil
}

// tableIDs lists every configured table of every source, for the name-collision check.
func tableIDs(cfg *config.Config) []change.TableID {
	var ids []change.TableID
	for _, s := range cfg.Sources {
		var tables []config.TableName
		switch {
		case s.Postgres != nil:
			tables = s.Postgres.Tables
		case s.MySQL != nil:
			tables = s.MySQL.Tables
		}
		for _, t := range tables {
			ids = append(ids, change.TableID{Source: s.Name, Namespace: t.Schema, Name: t.Name})
		}
	}
	return ids
}

// sourceByName finds a configured source and its kind; an unknown name, or a kind this build
// lacks, is bad input.
func sourceByName(cfg *config.Config, name string) (*config.Source, sourceKind, error) {
	s, ok := cfg.Source(name)
	if !ok {
		var names []string
		for _, s := range cfg.Sources {
			names = append(names, s.Name)
		}
		return nil, sourceKind{}, badInput("no source %q in the configuration (it has %v)", name, names)
	}
	k, err := kindOf(s)
	return s, k, err
}
