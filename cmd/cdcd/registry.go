package main

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/schema"
)

// openRegistry returns the configured schema registry: an external Confluent-compatible one when
// registry.url is set, otherwise cdcd's embedded registry, persisted in ClickHouse beside the data
// (table _cdcd_schemas) and served on registry.listen until ctx ends. serve runs the embedded
// registry's HTTP server; it is nil for an external registry or when listen is off.
func openRegistry(ctx context.Context, cfg *config.Config, conn driver.Conn, log *slog.Logger) (reg schema.Registry, serve func(context.Context) error, err error) {
	reg, emb, err := registryClient(ctx, cfg, conn, log)
	if err != nil || emb == nil {
		return reg, nil, err
	}
	r := cfg.Registry
	if r.Listen == "" {
		log.Info("embedded schema registry (not served: registry.listen is off)")
		return emb, nil, nil
	}
	ln, err := net.Listen("tcp", r.Listen)
	if err != nil {
		return nil, nil, badInput("registry.listen: %v", err)
	}
	log.Info("embedded schema registry", "listen", ln.Addr().String(), "compatibility", r.Compatibility)
	return emb, func(ctx context.Context) error { return emb.ServeListener(ctx, ln) }, nil
}

// registryClient returns the configured registry without serving it: the external one, or the
// embedded registry read from ClickHouse (then also returned as emb).
func registryClient(ctx context.Context, cfg *config.Config, conn driver.Conn, log *slog.Logger) (reg schema.Registry, emb *schema.Embedded, err error) {
	r := cfg.Registry
	if r.URL != "" {
		x, err := schema.NewExternal(schema.Options{URL: r.URL, Username: r.Username, Password: r.Password, CAFile: r.CAFile,
			Timeout: 10 * time.Second})
		if err != nil {
			return nil, nil, badInput("registry: %v", err)
		}
		log.Info("using an external schema registry", "url", r.URL)
		return x, nil, nil
	}
	store, err := schema.NewClickHouseStore(ctx, conn, cfg.ClickHouse.Database)
	if err != nil {
		return nil, nil, err
	}
	emb, err = schema.NewEmbedded(ctx, store, r.Compatibility)
	if err != nil {
		return nil, nil, err
	}
	return emb, emb, nil
}

// subjectOf names a table's subject from the configured template.
func subjectOf(cfg *config.Config) func(change.TableID) string {
	return func(id change.TableID) string { return cfg.Registry.Subject(id.Source, id.Namespace, id.Name) }
}
