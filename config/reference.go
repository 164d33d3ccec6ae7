package config

import _ "embed"

//go:embed reference.yml
var reference string

// Reference returns a commented example of every setting with its default, for the README and
// for `cdcd config reference`-style output. A test loads it, so it stays valid.
func Reference() string { return reference }
