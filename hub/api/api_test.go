package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestUSCC(t *testing.T) {
	// 91350100M000100Y43 is the example code of GB 32100-2015 commentary and public registers.
	for _, good := range []string{"91350100M000100Y43", USCCWithCheckDigit("91110108MA01K7X3P"), USCCWithCheckDigit("12100000400000000")} {
		if err := ValidUSCC(good); err != nil {
			t.Errorf("%s: %v", good, err)
		}
	}
	for _, bad := range []string{"91350100M000100Y44", "91350100M000100Y4", "91350100M000100Y433", "91350100I000100Y43", "", "9135010OM000100Y43"} {
		if err := ValidUSCC(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Every single-character change of a valid code is caught by the check digit.
	code := "91350100M000100Y43"
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	for i := 0; i < 17; i++ {
		for _, c := range alphabet {
			if byte(c) == code[i] {
				continue
			}
			mut := code[:i] + string(c) + code[i+1:]
			if ValidUSCC(mut) == nil {
				t.Fatalf("%s (position %d changed) accepted", mut, i+1)
			}
		}
	}
}

func TestSignedStatus(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	s, err := SignStatus(key, &StatusPayload{Type: "status", ProducedAt: time.Now().UTC(), Statuses: []SealStatus{{ESID: "1", Status: StatusActive}}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Open(&key.PublicKey)
	if err != nil || p.Statuses[0].Status != StatusActive {
		t.Fatalf("open: %+v %v", p, err)
	}
	if _, err := s.Open(&other.PublicKey); err != ErrBadStatusSignature {
		t.Fatalf("another key: %v", err)
	}
	s.Payload = []byte(strings.Replace(string(s.Payload), "active", "revoked", 1))
	if _, err := s.Open(&key.PublicKey); err != ErrBadStatusSignature {
		t.Fatalf("tampered: %v", err)
	}
}

func TestBodyHash(t *testing.T) {
	r := Record{ID: "a", SealID: "s", SignerCertSHA256: strings.Repeat("AB", 32), DocDigestAlg: "sha256", DocDigest: strings.Repeat("cd", 32),
		Pages: []int{1}, SignedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CST", 8*3600))}
	r2 := r
	r2.SignerCertSHA256 = strings.ToLower(r.SignerCertSHA256)
	r2.SignedAt = r.SignedAt.UTC()
	if r.BodyHash() != r2.BodyHash() {
		t.Fatal("the same record in another time zone or hex case hashes differently")
	}
	r2.Pages = []int{2}
	if r.BodyHash() == r2.BodyHash() {
		t.Fatal("different pages hash the same")
	}
}

// TestOpenAPIDocument checks that openapi.yaml parses and documents every error code.
func TestOpenAPIDocument(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI    string                    `yaml:"openapi"`
		Paths      map[string]map[string]any `yaml:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `yaml:"enum"`
				} `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if doc.OpenAPI == "" || len(doc.Paths) < 15 {
		t.Fatalf("openapi.yaml: version %q, %d paths", doc.OpenAPI, len(doc.Paths))
	}
	codes := map[string]bool{}
	for _, c := range doc.Components.Schemas["ErrorBody"].Properties["code"].Enum {
		codes[c] = true
	}
	for _, c := range []string{CodeUnauthenticated, CodeForbidden, CodeAdminRequired, CodeNotFound, CodeMethodNotAllowed, CodeMalformed,
		CodeInvalidField, CodeInvalidUSCC, CodeTooLarge, CodeUnsupportedType, CodeConflict, CodeAlreadyExists, CodeInvalidTransition,
		CodeRateLimited, CodeTimeout, CodeInternal, CodeSealNotFiled, CodeRoleNotAllowed, CodeOwnOrg, CodeNotApproved, CodeNotConfigured, CodeUnknownType} {
		if !codes[c] {
			t.Errorf("error code %s is not in openapi.yaml", c)
		}
	}
}
