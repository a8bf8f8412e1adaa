package demo

import (
	"context"
	"io"

	"sealdesk/document"
	"sealdesk/document/ofd"
)

func init() {
	RegisterStep(Step{Order: 50, Name: "sample OFD", Run: writeSampleOFD})
}

// writeSampleOFD writes sample.ofd: a three-page Chinese service contract made by the OFD
// generator, whose last page has the "甲方（盖章）" / "乙方（盖章）" signature block that
// keyword placement (`sealctl sign --keyword 甲方（盖章）`) finds.
func writeSampleOFD(ctx context.Context, ws *Workspace) error {
	b := ofd.SampleContract(3)
	if err := document.WriteFileAtomic(ws.Path("sample.ofd"), func(w io.Writer) error {
		_, err := b.WriteTo(w)
		return err
	}); err != nil {
		return err
	}
	ws.Manifest.Files["sample.ofd"] = "sample.ofd"
	return nil
}
