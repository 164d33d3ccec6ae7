// Package offsets owns source positions: where each source's stream has been durably delivered,
// stored beside the data in ClickHouse, and the operator's view and reset of them.
//
// The stored offset never moves backwards except through an explicit reset, and never ahead of the
// data it stands for.
package offsets
