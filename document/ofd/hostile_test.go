package ofd

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

type zentry struct {
	name string
	data string
	// declared, when set, is written as the entry's uncompressed size instead of the real one
	// (headers of hostile archives lie).
	declared uint64
}

func makeZip(t testing.TB, entries ...zentry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		if e.declared == 0 {
			w, err := zw.Create(e.name)
			if err != nil {
				t.Fatal(err)
			}
			w.Write([]byte(e.data))
			continue
		}
		// Store method keeps the raw bytes, so the real size is len(data).
		w, err := zw.CreateRaw(&zip.FileHeader{Name: e.name, Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte(e.data)),
			CompressedSize64: uint64(len(e.data)), UncompressedSize64: e.declared})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(e.data))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const (
	okOFD  = `<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" Version="1.0" DocType="OFD"><ofd:DocBody><ofd:DocInfo><ofd:DocID>1</ofd:DocID></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`
	okDoc  = `<ofd:Document xmlns:ofd="http://www.ofdspec.org/2016"><ofd:CommonData><ofd:PageArea><ofd:PhysicalBox>0 0 100 100</ofd:PhysicalBox></ofd:PageArea></ofd:CommonData><ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>`
	okPage = `<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="2"><ofd:PathObject ID="3" Boundary="10 10 50 50" Fill="true"><ofd:AbbreviatedData>M 0 0 L 50 0 L 50 50 C</ofd:AbbreviatedData></ofd:PathObject></ofd:Layer></ofd:Content></ofd:Page>`
)

func openBytes(data []byte, lim *Limits) (*Reader, error) {
	return Open(bytes.NewReader(data), int64(len(data)), lim)
}

func wantKind(t *testing.T, err, kind error, mention string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("want %v, have %v", kind, err)
	}
	var oe *Error
	if !errors.As(err, &oe) {
		t.Fatalf("error %v is not an *ofd.Error", err)
	}
	if mention != "" && !strings.Contains(err.Error(), mention) {
		t.Errorf("error %q does not name %q", err, mention)
	}
}

func TestHostileBaseline(t *testing.T) {
	rd, err := openBytes(makeZip(t, zentry{name: "OFD.xml", data: okOFD}, zentry{name: "Doc_0/Document.xml", data: okDoc},
		zentry{name: "Doc_0/Pages/Page_0/Content.xml", data: okPage}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.RenderPage(context.Background(), 0, 30, nil); err != nil {
		t.Fatal(err)
	}
}

func TestHostileNotOFD(t *testing.T) {
	_, err := openBytes([]byte("%PDF-1.7 definitely not a zip"), nil)
	wantKind(t, err, ErrNotOFD, "ZIP")
	_, err = openBytes(makeZip(t, zentry{name: "Doc_0/Document.xml", data: okDoc}), nil)
	wantKind(t, err, ErrNotOFD, "OFD.xml")
	_, err = openBytes(makeZip(t, zentry{name: "OFD.xml", data: `<html/>`}), nil)
	wantKind(t, err, ErrNotOFD, "<html>")
}

func TestHostileZipBomb(t *testing.T) {
	// A highly compressible entry: 8 MiB of zeros deflate to a few KiB (ratio > 1000).
	zeros := strings.Repeat("\x00", 8<<20)
	data := makeZip(t, zentry{name: "OFD.xml", data: okOFD}, zentry{name: "Doc_0/Document.xml", data: okDoc},
		zentry{name: "Doc_0/Pages/Page_0/Content.xml", data: okPage}, zentry{name: "Doc_0/Res/bomb.png", data: zeros})
	rd, err := openBytes(data, nil)
	if err != nil {
		t.Fatal(err) // opening reads only what it needs
	}
	_, err = rd.Pkg.ReadFile("/Doc_0/Res/bomb.png")
	wantKind(t, err, ErrZipBomb, "/Doc_0/Res/bomb.png")

	// Per-file limit on what an entry really decompresses to.
	_, err = openBytes(makeZip(t, zentry{name: "OFD.xml", data: okOFD + strings.Repeat(" ", 4096)}), &Limits{MaxEntrySize: 1024})
	wantKind(t, err, ErrZipBomb, "OFD.xml")

	// Declared sizes: one entry over the per-file limit, or all together over the total.
	_, err = openBytes(makeZip(t, zentry{name: "OFD.xml", data: okOFD}, zentry{name: "big", data: "x", declared: 1 << 40}), nil)
	wantKind(t, err, ErrZipBomb, "big")
	var many []zentry
	many = append(many, zentry{name: "OFD.xml", data: okOFD})
	for i := 0; i < 8; i++ {
		many = append(many, zentry{name: "part" + string(rune('a'+i)), data: "x", declared: 200 << 20})
	}
	_, err = openBytes(makeZip(t, many...), nil)
	wantKind(t, err, ErrZipBomb, "in total")

	// A header that understates the size: reading stops at the declared size.
	lie := makeZip(t, zentry{name: "OFD.xml", data: okOFD}, zentry{name: "Doc_0/Document.xml", data: okDoc},
		zentry{name: "Doc_0/Pages/Page_0/Content.xml", data: okPage}, zentry{name: "liar.xml", data: strings.Repeat("y", 5000), declared: 10})
	rd, err = openBytes(lie, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rd.Pkg.ReadFile("/liar.xml")
	if err == nil {
		t.Fatal("reading past the declared size must fail")
	}

	// Too many entries.
	_, err = openBytes(makeZip(t, zentry{name: "OFD.xml", data: okOFD}, zentry{name: "a"}, zentry{name: "b"}), &Limits{MaxEntries: 2})
	wantKind(t, err, ErrZipBomb, "entries")
}

func TestHostilePathEscape(t *testing.T) {
	for _, loc := range []string{"../../etc/passwd", "/../secret.xml", "Doc_0/../../x.xml"} {
		ofdXML := strings.Replace(okOFD, "Doc_0/Document.xml", loc, 1)
		_, err := openBytes(makeZip(t, zentry{name: "OFD.xml", data: ofdXML}), nil)
		wantKind(t, err, ErrPathEscape, loc)
	}
	// A page BaseLoc that climbs out.
	doc := strings.Replace(okDoc, "Pages/Page_0/Content.xml", "../../../../tmp/x.xml", 1)
	_, err := openBytes(makeZip(t, zentry{name: "OFD.xml", data: okOFD}, zentry{name: "Doc_0/Document.xml", data: doc}), nil)
	wantKind(t, err, ErrPathEscape, "../../../../tmp/x.xml")
	// Archive entries named outside the root are listed as unsafe and cannot be read.
	p, err := OpenPackage(bytes.NewReader(makeZip(t, zentry{name: "OFD.xml", data: okOFD}, zentry{name: "../evil.xml", data: "x"},
		zentry{name: "C:/windows/evil.xml", data: "x"})), 0, nil)
	if err == nil {
		t.Fatal("size 0 must fail")
	}
	data := makeZip(t, zentry{name: "OFD.xml", data: okOFD}, zentry{name: "../evil.xml", data: "x"}, zentry{name: "C:/windows/evil.xml", data: "x"},
		zentry{name: "dup.xml", data: "1"}, zentry{name: "dup.xml", data: "2"})
	p, err = OpenPackage(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Unsafe) != 4 {
		t.Errorf("unsafe entries %q, want ../evil.xml, C:/windows/evil.xml and both dup.xml", p.Unsafe)
	}
	for _, n := range []string{"/evil.xml", "/dup.xml", "/windows/evil.xml"} {
		if _, err := p.ReadFile(n); !errors.Is(err, ErrMissing) {
			t.Errorf("ReadFile(%s) = %v, want ErrMissing", n, err)
		}
	}
}

func TestCaseMismatchFallback(t *testing.T) {
	doc := strings.Replace(okDoc, "Pages/Page_0/Content.xml", "PAGES/page_0/content.XML", 1)
	rd, err := openBytes(makeZip(t, zentry{name: "OFD.xml", data: okOFD}, zentry{name: "Doc_0/Document.xml", data: doc},
		zentry{name: "Doc_0/Pages/Page_0/Content.xml", data: okPage}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rd.Page(0); err != nil {
		t.Fatalf("case-insensitive fallback: %v", err)
	}
}

func TestHostileXML(t *testing.T) {
	base := func(ofdXML string) []byte {
		return makeZip(t, zentry{name: "OFD.xml", data: ofdXML}, zentry{name: "Doc_0/Document.xml", data: okDoc},
			zentry{name: "Doc_0/Pages/Page_0/Content.xml", data: okPage})
	}
	t.Run("huge", func(t *testing.T) {
		big := strings.Replace(okOFD, "<ofd:DocID>1</ofd:DocID>", "<ofd:DocID>1</ofd:DocID><ofd:Title>"+strings.Repeat("长", 1<<20)+"</ofd:Title>", 1)
		_, err := openBytes(base(big), &Limits{MaxXMLSize: 1 << 20})
		wantKind(t, err, ErrXMLTooLarge, "/OFD.xml")
		many := strings.Replace(okOFD, "<ofd:DocID>1</ofd:DocID>", "<ofd:DocID>1</ofd:DocID><ofd:Keywords>"+strings.Repeat("<ofd:Keyword>k</ofd:Keyword>", 5000)+"</ofd:Keywords>", 1)
		_, err = openBytes(base(many), &Limits{MaxXMLElement: 1000})
		wantKind(t, err, ErrXMLTooLarge, "elements")
	})
	t.Run("deep", func(t *testing.T) {
		deep := strings.Repeat("<ofd:PageBlock>", 300) + strings.Repeat("</ofd:PageBlock>", 300)
		page := strings.Replace(okPage, `<ofd:Layer ID="2">`, `<ofd:Layer ID="2">`+deep, 1)
		rd, err := openBytes(makeZip(t, zentry{name: "OFD.xml", data: okOFD}, zentry{name: "Doc_0/Document.xml", data: okDoc},
			zentry{name: "Doc_0/Pages/Page_0/Content.xml", data: page}), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = rd.Page(0)
		wantKind(t, err, ErrXMLTooDeep, "Content.xml")
		_, err = rd.RenderPage(context.Background(), 0, 30, nil)
		wantKind(t, err, ErrXMLTooDeep, "Content.xml")
	})
	t.Run("billion laughs", func(t *testing.T) {
		lol := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>` +
			strings.Replace(okOFD[strings.Index(okOFD, "<ofd:OFD"):], "<ofd:DocID>1</ofd:DocID>", "<ofd:DocID>&lol2;</ofd:DocID>", 1)
		_, err := openBytes(base(lol), nil)
		wantKind(t, err, ErrXMLEntity, "DTD")
	})
	t.Run("external entity", func(t *testing.T) {
		xxe := `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
			strings.Replace(okOFD[strings.Index(okOFD, "<ofd:OFD"):], "<ofd:DocID>1</ofd:DocID>", "<ofd:DocID>&xxe;</ofd:DocID>", 1)
		_, err := openBytes(base(xxe), nil)
		wantKind(t, err, ErrXMLEntity, "")
	})
	t.Run("undeclared entity", func(t *testing.T) {
		_, err := openBytes(base(strings.Replace(okOFD, "<ofd:DocID>1</ofd:DocID>", "<ofd:DocID>&xxe;</ofd:DocID>", 1)), nil)
		wantKind(t, err, ErrXMLEntity, "/OFD.xml")
	})
	t.Run("malformed", func(t *testing.T) {
		_, err := openBytes(base(`<ofd:OFD><ofd:DocBody></ofd:OFD>`), nil)
		wantKind(t, err, ErrMalformed, "/OFD.xml")
		_, err = openBytes(base(strings.Replace(okOFD, "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>", "", 1)), nil)
		wantKind(t, err, ErrMalformed, "DocRoot")
	})
}

func TestMissingParts(t *testing.T) {
	// Document.xml named but absent.
	_, err := openBytes(makeZip(t, zentry{name: "OFD.xml", data: okOFD}), nil)
	wantKind(t, err, ErrMissing, "/Doc_0/Document.xml")
	// A page file absent: opening works, that page fails with a clear error.
	rd, err := openBytes(makeZip(t, zentry{name: "OFD.xml", data: okOFD}, zentry{name: "Doc_0/Document.xml", data: okDoc}), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rd.RenderPage(context.Background(), 0, 30, nil)
	wantKind(t, err, ErrMissing, "/Doc_0/Pages/Page_0/Content.xml")
	if _, err := rd.RenderPage(context.Background(), 5, 30, nil); err == nil || !strings.Contains(err.Error(), "page 6") {
		t.Errorf("page out of range: %v", err)
	}
}
