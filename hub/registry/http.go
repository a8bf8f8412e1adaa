package registry

// Routes of the registry (mounted beside the hub API by sealhub serve --role registry).
// Reads are public: a seal's filed status and the trust bundle are what every relying
// party asks for. Filings are authenticated by the provider's signature.
const (
	PathFilings     = "/v1/registry/filings"     // POST, headers Sealhub-Provider and Sealhub-Signature
	PathStatus      = "/v1/registry/status"      // GET ?id=ESID[&id=…][&at=RFC3339]
	PathRevocations = "/v1/registry/revocations" // GET ?since=RFC3339
	PathBundle      = "/v1/registry/bundle"      // GET: the signed trust bundle
	PathKey         = "/v1/registry/key"         // GET: the registry's public key (PEM)
)

// Headers of a filing request.
const (
	HeaderProvider  = "Sealhub-Provider"
	HeaderSignature = "Sealhub-Signature" // base64 (std) ES256 over FilingContext || body
)
