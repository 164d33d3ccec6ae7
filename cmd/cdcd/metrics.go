package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/cdcd-dev/cdcd/pipeline"
)

// lagger is implemented by sources that know how far behind the source's end they are (bytes of
// WAL for PostgreSQL, of binlog for MySQL/MariaDB).
type lagger interface{ Lag() uint64 }

// sourceMetrics is what /metrics reports of one source.
type sourceMetrics struct {
	name, kind string
	stats      *pipeline.Stats
	source     any
}

// serveMetrics serves Prometheus /metrics and /healthz on addr until ctx ends. A bind failure is
// returned at once.
func serveMetrics(ctx context.Context, addr string, sources []sourceMetrics, log *slog.Logger) (func() error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, badInput("metrics.listen: %v", err)
	}
	mux := http.NewServeMux()
	started := time.Now()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		fmt.Fprint(w, renderMetrics(sources, started))
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	log.Info("serving metrics", "listen", ln.Addr().String())
	return func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := srv.Shutdown(sctx)
		<-done
		return err
	}, nil
}

// renderMetrics writes the Prometheus text exposition of every source's counters.
func renderMetrics(sources []sourceMetrics, started time.Time) string {
	var b strings.Builder
	type metric struct {
		name, help, typ string
		value           func(s sourceMetrics) (float64, bool)
	}
	metrics := []metric{
		{"cdcd_rows_written_total", "Rows written to ClickHouse row tables (after collapsing per key).", "counter",
			func(s sourceMetrics) (float64, bool) { return float64(s.stats.Rows.Load()), true }},
		{"cdcd_events_total", "Change events written.", "counter",
			func(s sourceMetrics) (float64, bool) { return float64(s.stats.Events.Load()), true }},
		{"cdcd_batches_total", "Batches written.", "counter",
			func(s sourceMetrics) (float64, bool) { return float64(s.stats.Batches.Load()), true }},
		{"cdcd_dead_letters_total", "Rows sent to the dead-letter table.", "counter",
			func(s sourceMetrics) (float64, bool) { return float64(s.stats.DeadLetters.Load()), true }},
		{"cdcd_offset_commits_total", "Offsets stored in ClickHouse.", "counter",
			func(s sourceMetrics) (float64, bool) { return float64(s.stats.Commits.Load()), true }},
		{"cdcd_pipeline_restarts_total", "Restarts of the stream after an error.", "counter",
			func(s sourceMetrics) (float64, bool) { return float64(s.stats.Restarts.Load()), true }},
		{"cdcd_offset_version", "Version of the newest stored offset (PostgreSQL: LSN - 1).", "gauge",
			func(s sourceMetrics) (float64, bool) { return float64(s.stats.Version.Load()), true }},
		{"cdcd_source_lag_bytes", "How far the acknowledged position is behind the source's end (bytes of PostgreSQL WAL or MySQL binlog; across binlog files, the newest file's bytes).", "gauge",
			func(s sourceMetrics) (float64, bool) {
				if l, ok := s.source.(lagger); ok {
					return float64(l.Lag()), true
				}
				return 0, false
			}},
	}
	sorted := append([]sourceMetrics(nil), sources...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, m := range metrics {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, m.typ)
		for _, s := range sorted {
			if v, ok := m.value(s); ok {
				fmt.Fprintf(&b, "%s{source=%q,kind=%q} %g\n", m.name, s.name, s.kind, v)
			}
		}
	}
	fmt.Fprintf(&b, "# HELP cdcd_uptime_seconds Seconds since the daemon started.\n# TYPE cdcd_uptime_seconds gauge\ncdcd_uptime_seconds %g\n",
		time.Since(started).Seconds())
	return b.String()
}
