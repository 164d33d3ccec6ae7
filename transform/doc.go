// Package transform maintains incremental aggregations (GROUP BY with count, sum, avg, min, max,
// count_distinct, optionally over event-time windows) from the change stream, so they stay exact
// under inserts, updates, deletes and replays.
//
// transform owns aggregate state and its algebra; it must never read the ClickHouse row tables to
// retract a change, and never count an event twice (each group remembers the last position applied).
package transform
