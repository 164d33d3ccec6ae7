package main

import (
	"errors"
	"fmt"

	"github.com/cdcd-dev/cdcd/config"
	"github.com/cdcd-dev/cdcd/transform"
)

// parseAggregations parses and validates every configured aggregation; an error is bad input
// naming the field.
func parseAggregations(cfg *config.Config) ([]*transform.Spec, error) {
	exists := func(name string) bool { _, ok := cfg.Source(name); return ok }
	var specs []*transform.Spec
	for i, a := range cfg.Aggregations {
		spec, err := transform.ParseSpec(fmt.Sprintf("aggregations[%d]", i), a, exists)
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
