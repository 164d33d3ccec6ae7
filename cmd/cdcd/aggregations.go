package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cdcd-dev/cdcd/change"
	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/sink/clickhouse"
	"github.com/cdcd-dev/cdcd/transform"
)

// parseAggregations parses and validates every configured aggregation; an error is bad input
// naming the field.
func parseAggregations(cfg *config.Config) ([]*transform.Spec, error) {
	exists := func(name string) bool { _, ok := cfg.Source(name); return ok }
	captured := map[change.TableID]bool{}
	for _, id := range tableIDs(cfg) {
		captured[id] = true
	}
	var specs []*transform.Spec
	for i, a := range cfg.Aggregations {
		field := fmt.Sprintf("aggregations[%d]", i)
		spec, err := transform.ParseSpec(field, a, exists)
		if err == nil && !captured[spec.From] {
			// Such an aggregation would never see a change: refuse it rather than leave it empty.
			sub := ".from"
			if a.SQL != "" {
				sub = ".sql"
			}
			err = &config.Error{Field: field + sub, Message: fmt.Sprintf("table %s is not among the tables of source %q (%s)",
				spec.From.SourceName(), spec.From.Source, strings.Join(sourceTables(cfg, spec.From.Source), ", "))}
		}
		if err != nil {
			var ce *config.Error
			if errors.As(err, &ce) && ce.File == "" {
				ce.File = cfg.File()
			}
			return nil, &exitError{code: 2, err: err}
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

// sourceTables lists a source's captured tables as schema.table.
func sourceTables(cfg *config.Config, source string) []string {
	var names []string
	for _, id := range tableIDs(cfg) {
		if id.Source == source {
			names = append(names, id.SourceName())
		}
	}
	return names
}

// checkConfig is what cdcd check and cdcd run verify before connecting anywhere: the file, the
// aggregations, and that no two ClickHouse objects share a name. Errors are bad input (exit 2).
func checkConfig(cfg *config.Config) ([]*transform.Spec, error) {
	specs, err := parseAggregations(cfg)
	if err != nil {
		return nil, err
	}
	if err := clickhouse.CheckNames(tableIDs(cfg), aggregationNames(specs)); err != nil {
		return nil, &exitError{code: 2, err: err}
	}
	return specs, nil
}

// aggregationsOf returns the aggregations over one source's tables.
func aggregationsOf(specs []*transform.Spec, source string) []*transform.Spec {
	var out []*transform.Spec
	for _, s := range specs {
		if s.From.Source == source {
			out = append(out, s)
		}
	}
	return out
}

// aggregationNames are the ClickHouse objects of the aggregations, for the name-collision check.
func aggregationNames(specs []*transform.Spec) map[string]string {
	names := map[string]string{}
	for _, s := range specs {
		names["agg_"+s.Name] = fmt.Sprintf("aggregation %q", s.Name)
		names["agg_"+s.Name+"_current"] = fmt.Sprintf("the view of aggregation %q", s.Name)
	}
	return names
}
