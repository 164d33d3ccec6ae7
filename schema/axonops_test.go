package schema

import (
	"testing"

	"github.com/cdcd-dev/cdcd/internal/testenv"
)

// TestThirdPartyConformance runs the registry suite against axonops-schema-registry v0.2.1, a
// Confluent-compatible server cdcd did not write, so the suite (and the External client tested
// against it) is known to describe Confluent's API rather than cdcd's reading of it. Its
// deviations from Confluent are tolerated, and named, where the suite meets them.
func TestThirdPartyConformance(t *testing.T) {
	url := testenv.StartRegistry(t)
	runRegistrySuite(t, registryTarget{url: url, thirdParty: true})
}
