package ofd

import (
	"context"
	"image"
	"strings"
	"testing"
)

// The e-invoices of the corpus, with fields the test expects on page 1 when OFD.xml's
// CustomData does not list them.
var invoices = []struct {
	file  string
	extra []string
}{
	{"real/invoice-vat-zhejiang-2020.ofd", []string{"浙江增值税电子普通发票", "兰溪市悦济舫餐厅"}},
	{"real/invoice-vat-jiangsu-2020.ofd", nil},
	{"real/invoice-vat-special-guizhou-2022.ofd", nil},
	{"real/einvoice-platform-zhejiang-2022-antchain.ofd", []string{"发票号码：99934328", "033002200211", "杭州融运科技有限公司"}},
	{"real/invoice-test-chongqing-kinggrid.ofd", nil},
	{"real/invoice-test-chongqing-bw-5pages.ofd", nil},
	{"real/invoice-digital-2024-unsigned.ofd", []string{"电子发票（增值税专用发票）", "北京互联三六五科技有限公司"}},
}

// invoiceFields are the CustomData entries tax bureaus write that also appear on the page.
var invoiceFields = []string{"发票号码", "发票代码", "开票日期", "校验码", "合计金额", "合计税额", "价税合计", "购买方纳税人识别号", "销售方纳税人识别号"}

func squeeze(s string) string { return strings.Join(strings.Fields(s), "") }

// TestInvoiceText checks that page 1 of every e-invoice reads right: the invoice fields that
// OFD.xml lists in CustomData are found in the text extracted from the page's TextCodes.
func TestInvoiceText(t *testing.T) {
	for _, inv := range invoices {
		t.Run(inv.file, func(t *testing.T) {
			rd := openCorpus(t, inv.file)
			text, err := rd.PlainText(context.Background(), 0)
			if err != nil {
				t.Fatal(err)
			}
			page := squeeze(text)
			want := append([]string(nil), inv.extra...)
			for _, f := range invoiceFields {
				if v := rd.Body.Info.Custom(f); v != "" {
					want = append(want, v)
				}
			}
			if len(want) < 2 {
				t.Fatalf("no known fields to compare (CustomData %v)", rd.Body.Info.CustomData)
			}
			for _, w := range want {
				if !strings.Contains(page, squeeze(w)) {
					t.Errorf("page 1 text lacks %q\ntext: %s", w, text)
				}
			}
			// Find gives a box on the page for the invoice number.
			if no := rd.Body.Info.Custom("发票号码"); no != "" {
				hits, err := rd.Find(context.Background(), 0, no)
				if err != nil || len(hits) == 0 {
					t.Fatalf("Find(%q) = %v, %v", no, hits, err)
				}
				b, _ := rd.PageBox(0)
				r := hits[0].Rect
				if r.X < 0 || r.Y < 0 || r.X+r.W > b.W || r.Y+r.H > b.H || r.W <= 0 || r.H <= 0 {
					t.Errorf("hit box %+v outside page %+v", r, b)
				}
			}
		})
	}
}

// redInk reports whether a pixel is seal red (not the brown-red of invoice grid lines).
func redInk(img *image.RGBA, x, y int) bool {
	o := img.PixOffset(x, y)
	r, g, b := img.Pix[o], img.Pix[o+1], img.Pix[o+2]
	return r > 180 && g < 110 && b < 110
}

// TestInvoiceSeal checks that the red seal is drawn where the signature's StampAnnot (or, for
// the unsigned 2024 invoice, its watermark annotation) says: plenty of red ink inside the
// boundary and almost none elsewhere on the page.
func TestInvoiceSeal(t *testing.T) {
	for _, inv := range invoices {
		t.Run(inv.file, func(t *testing.T) {
			rd := openCorpus(t, inv.file)
			var boxes []Box
			stamps, err := rd.Stamps()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range stamps {
				if s.Page == 0 {
					if s.picture.err != nil {
						t.Fatalf("stamp picture: %v", s.picture.err)
					}
					boxes = append(boxes, s.Boundary)
				}
			}
			if len(boxes) == 0 {
				annots, err := rd.Annotations(rd.Doc.Pages[0].ID)
				if err != nil {
					t.Fatal(err)
				}
				for _, a := range annots {
					if a.Type == "Watermark" && a.Boundary.W >= 20 {
						boxes = append(boxes, a.Boundary)
					}
				}
			}
			if len(boxes) == 0 {
				t.Fatal("no stamp annotation on page 1")
			}
			const dpi = 150
			img, err := rd.RenderPage(context.Background(), 0, dpi, &RenderOptions{BundledFontsOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			px := func(mm float64) int { return int(mm * dpi / 25.4) }
			count := func(img *image.RGBA) (inside, outside int) {
				for y := 0; y < img.Bounds().Dy(); y++ {
					for x := 0; x < img.Bounds().Dx(); x++ {
						if !redInk(img, x, y) {
							continue
						}
						in := false
						for _, b := range boxes {
							if x >= px(b.X)-1 && x <= px(b.X+b.W)+1 && y >= px(b.Y)-1 && y <= px(b.Y+b.H)+1 {
								in = true
							}
						}
						if in {
							inside++
						} else {
							outside++
						}
					}
				}
				return inside, outside
			}
			inside, outside := count(img)
			if len(stamps) > 0 {
				// Control: without the signatures' stamps the red must go.
				bare, err := rd.RenderPage(context.Background(), 0, dpi, &RenderOptions{BundledFontsOnly: true, NoStamps: true})
				if err != nil {
					t.Fatal(err)
				}
				if in, _ := count(bare); in > inside/20 {
					t.Errorf("without stamps %d red pixels remain in the boundary (%d with)", in, inside)
				}
			}
			area := 0
			for _, b := range boxes {
				area += px(b.W) * px(b.H)
			}
			t.Logf("red pixels: %d inside %v (%.1f%% of the area), %d outside", inside, boxes, 100*float64(inside)/float64(area), outside)
			if float64(inside) < 0.05*float64(area) {
				t.Errorf("only %d red pixels inside the stamp boundary (area %d px)", inside, area)
			}
			// Titles may be red too (the 2024 invoice's is), so compare densities: the seal
			// area must be far redder than the rest of the page.
			rest := img.Bounds().Dx()*img.Bounds().Dy() - area
			if dIn, dOut := float64(inside)/float64(area), float64(outside)/float64(rest); dIn < 20*dOut {
				t.Errorf("red density inside the stamp %.4f is not far above the rest of the page %.4f", dIn, dOut)
			}
		})
	}
}
