package demo

import (
	"context"
	"io"

	"sealdesk/document"
	"sealdesk/document/pdf"
)

func init() {
	RegisterStep(Step{Order: 50, Name: "sample PDF", Run: writeSamplePDF})
}

// writeSamplePDF writes sample.pdf: a three-page Chinese service contract written by
// document/pdf's generator (page 2 rotated by 90 degrees; text in the non-embedded
// STSong-Light font, so it is extractable), whose last page carries the "甲方（盖章）" and
// "乙方（盖章）" keywords for keyword placement (`sealctl sign --keyword 甲方（盖章）`).
func writeSamplePDF(ctx context.Context, ws *Workspace) error {
	b := pdf.SampleContract()
	if err := document.WriteFileAtomic(ws.Path("sample.pdf"), func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}); err != nil {
		return err
	}
	ws.Manifest.Files["sample.pdf"] = "sample.pdf"
	return nil
}
