package ofd

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"sealdesk/internal/testenv"
)

// corpusFiles lists every .ofd file of the shared corpus.
func corpusFiles(t testing.TB) []string {
	t.Helper()
	root := filepath.Join(testenv.Corpus(t), "ofd")
	var out []string
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && filepath.Ext(p) == ".ofd" {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	if len(out) == 0 {
		testenv.Missing(t, "OFD files in the corpus")
	}
	return out
}

func openCorpus(t testing.TB, rel string) *Reader {
	t.Helper()
	p := filepath.Join(testenv.Corpus(t), "ofd", rel)
	rd, err := OpenFile(p, nil)
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	t.Cleanup(func() { rd.Close() })
	return rd
}

func TestReadCorpus(t *testing.T) {
	for _, f := range corpusFiles(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			rd, err := OpenFile(f, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			if rd.NumPages() == 0 {
				t.Fatal("no pages")
			}
			for i := 0; i < rd.NumPages(); i++ {
				pg, err := rd.Page(i)
				if err != nil {
					t.Fatalf("page %d: %v", i+1, err)
				}
				if len(pg.Layers) == 0 && len(pg.Templates) == 0 {
					t.Errorf("page %d: no layers and no templates", i+1)
				}
				if _, err := rd.PageBox(i); err != nil {
					t.Fatal(err)
				}
				for _, tr := range pg.Templates {
					if _, _, err := rd.Template(tr.TemplateID); err != nil {
						t.Errorf("page %d template %d: %v", i+1, tr.TemplateID, err)
					}
				}
			}
			sigs, err := rd.Signatures()
			if name == "EDGE-dangling-signatures-ref.ofd" {
				if !errors.Is(err, ErrMissing) {
					t.Fatalf("dangling Signatures.xml: want ErrMissing, have %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if sigs == nil {
				return
			}
			for _, ref := range sigs.List {
				s, err := rd.Signature(ref)
				if err != nil {
					t.Fatalf("signature %s: %v", ref.ID, err)
				}
				if len(s.References) == 0 {
					t.Errorf("signature %s: no references", ref.ID)
				}
				if !rd.Pkg.Has(s.SignedValuePath) {
					t.Errorf("signature %s: signed value %s missing", ref.ID, s.SignedValuePath)
				}
				for _, r := range s.References {
					if r.CheckValue == nil {
						t.Errorf("signature %s: reference %s: bad CheckValue", ref.ID, r.FileRef)
					}
				}
			}
		})
	}
}

func TestReadInvoiceModel(t *testing.T) {
	rd := openCorpus(t, "real/invoice-vat-zhejiang-2020.ofd")
	if got := rd.Body.Info.Custom("发票号码"); got != "83089647" {
		t.Errorf("发票号码 = %q", got)
	}
	if rd.Doc.Pages[0].ID != 1 || rd.Doc.Pages[0].Path != "/Doc_0/Pages/Page_0/Content.xml" {
		t.Errorf("page ref %+v", rd.Doc.Pages[0])
	}
	if b, _ := rd.PageBox(0); b != (Box{0, 0, 210, 140}) {
		t.Errorf("page box %+v", b)
	}
	if m := rd.Res.MultiMedia(78); m == nil || m.MediaFile != "/Doc_0/Res/image_78.jb2" {
		t.Errorf("media 78 = %+v", m)
	}
	if f := rd.Res.Font(29); f == nil || f.FontName != "楷体" {
		t.Errorf("font 29 = %+v", f)
	}
	dp := rd.Res.DrawParam(4)
	if dp == nil || dp.LineWidth == nil || *dp.LineWidth != 0.25 || dp.StrokeColor == nil || dp.StrokeColor.Value[0] != 156 {
		t.Errorf("draw param 4 = %+v", dp)
	}
	sigs, err := rd.Signatures()
	if err != nil || sigs == nil || len(sigs.List) != 1 {
		t.Fatalf("signatures: %v %+v", err, sigs)
	}
	s, err := rd.Signature(sigs.List[0])
	if err != nil {
		t.Fatal(err)
	}
	if s.CheckMethod != "1.2.156.10197.1.401" || len(s.References) != 13 || s.SignedValuePath != "/Doc_0/Signs/Sign_0/SignedValue.dat" {
		t.Errorf("signature %+v", s)
	}
	if len(s.StampAnnots) != 1 || s.StampAnnots[0].PageRef != 1 || s.StampAnnots[0].Boundary != (Box{90, 8, 30, 20}) {
		t.Errorf("stamp annots %+v", s.StampAnnots)
	}
	if s.Provider.Name != "gomain_eseal" || s.SealPath != "" {
		t.Errorf("provider %+v seal %q", s.Provider, s.SealPath)
	}
}

func TestResolve(t *testing.T) {
	p := &Package{byName: map[string]*Entry{}, byFold: map[string]*Entry{}}
	for _, c := range []struct{ base, loc, want string }{
		{"/OFD.xml", "Doc_0/Document.xml", "/Doc_0/Document.xml"},
		{"/Doc_0/Document.xml", "Pages/Page_0/Content.xml", "/Doc_0/Pages/Page_0/Content.xml"},
		{"/Doc_0/Document.xml", "/Doc_0/Res/a.png", "/Doc_0/Res/a.png"},
		{"/Doc_0/Signs/Signatures.xml", "Sign_0/Signature.xml", "/Doc_0/Signs/Sign_0/Signature.xml"},
		{"/Doc_0/Signs/Sign_0/Signature.xml", "../../Res/./x.png", "/Doc_0/Res/x.png"},
		{"/Doc_0/Document.xml", `Pages\Page_0\Content.xml`, "/Doc_0/Pages/Page_0/Content.xml"},
	} {
		got, err := p.Resolve(c.base, c.loc)
		if err != nil || got != c.want {
			t.Errorf("Resolve(%q, %q) = %q, %v; want %q", c.base, c.loc, got, err, c.want)
		}
	}
	for _, loc := range []string{"../x", "/../x", "Doc_0/../../x", "a/../../../etc/passwd"} {
		if _, err := p.Resolve("/OFD.xml", loc); !errors.Is(err, ErrPathEscape) {
			t.Errorf("Resolve(%q): want ErrPathEscape, have %v", loc, err)
		}
	}
}
