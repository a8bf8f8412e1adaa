package skf

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

// TestPackedLayouts: the standard's structures at their pack(1) offsets.
func TestPackedLayouts(t *testing.T) {
	if devInfoSize != 294 || eccPubBlobSize != 132 || eccSigBlobSize != 128 || fileAttrSize != 44 {
		t.Fatalf("sizes %d %d %d %d", devInfoSize, eccPubBlobSize, eccSigBlobSize, fileAttrSize)
	}
	b := make([]byte, devInfoSize)
	copy(b[2:], "Vendor")
	copy(b[66:], "Issuer")
	copy(b[130:], "Label")
	copy(b[162:], "SN123")
	binary.LittleEndian.PutUint32(b[202:], 0x00020100)
	d, err := parseDevInfo(b)
	if err != nil || d.Manufacturer != "Vendor" || d.Issuer != "Issuer" || d.Label != "Label" || d.SerialNumber != "SN123" || d.AlgAsymCap != 0x00020100 {
		t.Errorf("DEVINFO %+v %v", d, err)
	}
	// GBK names from a Chinese Windows library are shown decoded.
	copy(b[130:], []byte{0xb2, 0xe2, 0xca, 0xd4, 0}) // 测试
	if d, _ := parseDevInfo(b); d.Label != "测试" {
		t.Errorf("GBK label %q", d.Label)
	}
}

// TestBlobs: public key blobs both ways; signature blobs right-aligned (standard) and
// left-aligned (some vendors) both yield a signature that verifies.
func TestBlobs(t *testing.T) {
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := parsePublicKey(PublicKeyBlob(&k.PublicKey))
	if err != nil || !pub.Equal(&k.PublicKey) {
		t.Fatalf("public key round trip: %v", err)
	}
	left := make([]byte, eccPubBlobSize)
	binary.LittleEndian.PutUint32(left, 256)
	k.X.FillBytes(left[4:36])
	k.Y.FillBytes(left[68:100])
	if pub, err := parsePublicKey(left); err != nil || !pub.Equal(&k.PublicKey) {
		t.Errorf("left-aligned public key: %v", err)
	}
	if _, err := parsePublicKey(make([]byte, eccPubBlobSize)); err == nil {
		t.Error("zero blob parsed")
	}
	e := make([]byte, 32)
	rand.Read(e)
	der, err := sm2.SignASN1(rand.Reader, k, e, nil)
	if err != nil {
		t.Fatal(err)
	}
	blob, err := SignatureBlob(der)
	if err != nil {
		t.Fatal(err)
	}
	c, err := signatureCandidates(blob)
	if err != nil || !sm2.VerifyASN1(&k.PublicKey, e, c[0]) {
		t.Fatalf("standard blob: %v", err)
	}
	// Left-aligned: r and s in the first 32 bytes of each field.
	la := make([]byte, eccSigBlobSize)
	copy(la[0:32], blob[32:64])
	copy(la[64:96], blob[96:128])
	c, err = signatureCandidates(la)
	ok := false
	for _, d := range c {
		ok = ok || sm2.VerifyASN1(&k.PublicKey, e, d)
	}
	if err != nil || !ok {
		t.Errorf("left-aligned blob: %v", err)
	}
	if _, err := signatureCandidates(make([]byte, eccSigBlobSize)); err == nil {
		t.Error("zero signature accepted")
	}
}

func TestSplit(t *testing.T) {
	if got := splitNames([]byte("a\x00bc\x00\x00")); len(got) != 2 || got[0] != "a" || got[1] != "bc" {
		t.Errorf("names %q", got)
	}
	seq := []byte{0x30, 0x03, 0x02, 0x01, 0x05}
	in := append(append(append([]byte{}, seq...), seq...), 0, 0, 0xff)
	if got := splitDER(in); len(got) != 2 {
		t.Errorf("DER elements %d", len(got))
	}
}

func TestURI(t *testing.T) {
	u := &URI{Lib: `C:\Windows\System32\mtoken_gm3000.dll`, Dev: "USB;1", App: "应用", Con: "a=b"}
	p, err := ParseURI(u.String())
	if err != nil || *p != *u {
		t.Fatalf("round trip %s: %+v %v", u, p, err)
	}
	for s, want := range map[string]string{
		"pkcs11:token=x":  "does not start with skf:",
		"skf:":            "no attributes",
		"skf:dev":         "not name=value",
		"skf:dev=a;dev=b": "appears twice",
		"skf:con=%zz":     "bad %-escape",
	} {
		if _, err := ParseURI(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", s, err, want)
		}
	}
}

func TestErrors(t *testing.T) {
	err := check("SKF_VerifyPIN", uint32(SAR_PIN_INCORRECT))
	if err.Error() != "SKF_VerifyPIN: SAR_PIN_INCORRECT (0x0A000024)" || CodeOf(err) != SAR_PIN_INCORRECT {
		t.Errorf("%v", err)
	}
	if !errors.Is(check("SKF_ECCSignData", uint32(SAR_DEVICE_REMOVED)), ErrDeviceRemoved) {
		t.Error("SAR_DEVICE_REMOVED is not ErrDeviceRemoved")
	}
	if Code(0x0B000001).String() != "0x0B000001" {
		t.Error(Code(0x0B000001).String())
	}
}
