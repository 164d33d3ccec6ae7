// Package schema owns the schema registry: a Confluent-compatible client for external registries
// and cdcd's own embedded registry, with compatibility checks under the Avro resolution rules.
//
// schema must never let a record be written under a schema the registry has not accepted.
package schema
