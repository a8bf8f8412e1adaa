package cms

import (
	"bytes"
	"context"
	"testing"

	"sealdesk/signer"
)

// TestTamper flips every bit pattern 0x01 and 0x80 of every byte of the SignerInfo (from its
// sid to the end: identifiers, algorithms, signed attributes, signature value) and of the
// signer certificate. No variant may verify; each either fails to parse or fails a check.
func TestTamper(t *testing.T) {
	content := []byte("tamper test content")
	for _, a := range allAlgs {
		for _, st := range []Style{Standard, GM} {
			t.Run(string(a)+"/"+st.String(), func(t *testing.T) {
				id, _ := testIdentity(t, a)
				d := signer.DefaultDigest(a)
				dg := digestOf(t, d, content)
				der, err := Sign(context.Background(), dg, Options{Identity: id, Style: st, PAdES: true})
				if err != nil {
					t.Fatal(err)
				}
				sid := bytes.LastIndex(der, id.Certificate.RawIssuer)
				cert := bytes.Index(der, id.Certificate.Raw)
				if sid < 0 || cert < 0 {
					t.Fatal("cannot locate the SignerInfo or the signer certificate")
				}
				ranges := [][2]int{{sid - 4, len(der)}, {cert, cert + len(id.Certificate.Raw)}}
				n := 0
				for _, rg := range ranges {
					for i := rg[0]; i < rg[1]; i++ {
						for _, m := range []byte{0x01, 0x80} {
							bad := bytes.Clone(der)
							bad[i] ^= m
							sd, err := Parse(bad)
							if err != nil {
								continue
							}
							if r := sd.Verify(dg, VerifyOptions{PAdES: true}); r.OK {
								t.Fatalf("byte %d ^ %#x still verifies: %+v", i, m, r.Checks)
							}
							n++
						}
					}
				}
				t.Logf("%d parseable tampered variants, none verifies", n)
			})
		}
	}
}

// TestParseRobustness: truncations and trailing data are errors, zero padding is not.
func TestParseRobustness(t *testing.T) {
	id, _ := testIdentity(t, signer.ECDSA)
	dg := digestOf(t, signer.SHA256, []byte("x"))
	der, err := Sign(context.Background(), dg, Options{Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	padded := append(bytes.Clone(der), make([]byte, 4096)...)
	sd, err := Parse(padded)
	if err != nil || !sd.Verify(dg, VerifyOptions{}).OK {
		t.Fatalf("zero-padded CMS (PDF /Contents): %v", err)
	}
	if _, err := Parse(append(bytes.Clone(der), 0, 0, 1)); err == nil {
		t.Fatal("trailing non-zero data accepted")
	}
	for i := 0; i < len(der); i++ {
		if _, err := Parse(der[:i]); err == nil {
			t.Fatalf("truncation to %d bytes parsed", i)
		}
	}
	for _, in := range [][]byte{nil, {0}, {0x30}, {0x30, 0x80}, {0x30, 0x84, 0xff, 0xff, 0xff, 0xff}, {0x30, 0x80, 0x30, 0x80}} {
		if _, err := Parse(in); err == nil {
			t.Fatalf("%x parsed", in)
		}
	}
}

// TestBERInput: an indefinite-length, constructed-OCTET-STRING encoding of an attached
// SignedData (what Acrobat writes) parses, converts to the same DER, and verifies.
func TestBERInput(t *testing.T) {
	id, _ := testIdentity(t, signer.RSA)
	content := bytes.Repeat([]byte("0123456789"), 50)
	der, err := SignEncapsulated(context.Background(), OIDData, content, Options{Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	ber := toIndefinite(t, der)
	if bytes.Equal(ber, der) {
		t.Fatal("conversion to BER did nothing")
	}
	sd, err := Parse(ber)
	if err != nil {
		t.Fatal(err)
	}
	if !sd.BER || !bytes.Equal(sd.Raw, der) || !bytes.Equal(sd.Content(), content) {
		t.Fatalf("BER=%v, DER equal=%v, content equal=%v", sd.BER, bytes.Equal(sd.Raw, der), bytes.Equal(sd.Content(), content))
	}
	if r := sd.Verify(nil, VerifyOptions{ExpectContent: content}); !r.OK {
		t.Fatal(r.Err())
	}
	// Without binding the attached content to anything, the result is not OK.
	if r := sd.Verify(nil, VerifyOptions{}); r.OK || r.Check(CheckContent).Code != "cms.content-unbound" {
		t.Fatalf("unbound attached content: %+v", r.Checks)
	}
}

// toIndefinite re-encodes the outer ContentInfo, [0] and SignedData SEQUENCE with indefinite
// lengths and splits the eContent OCTET STRING into a constructed one of 100-byte chunks.
func toIndefinite(t *testing.T, der []byte) []byte {
	t.Helper()
	var conv func(b []byte, depth int) []byte
	conv = func(b []byte, depth int) []byte {
		tag, v, ok := splitTLV(b)
		if !ok {
			t.Fatal("splitTLV")
		}
		if tag == 0x04 && len(v) > 100 {
			out := []byte{0x24, 0x80}
			for i := 0; i < len(v); i += 100 {
				out = append(out, encodeTLV([]byte{0x04}, v[i:min(i+100, len(v))])...)
			}
			return append(out, 0, 0)
		}
		if tag&0x20 == 0 || depth > 4 {
			return b
		}
		out := []byte{tag, 0x80}
		for len(v) > 0 {
			n, err := berElementLen(v)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, conv(v[:n], depth+1)...)
			v = v[n:]
		}
		return append(out, 0, 0)
	}
	return conv(der, 0)
}
