package cli

import (
	"context"
	"io"
	"strings"

	"sealdesk/document"
	"sealdesk/document/ofd"
)

func init() {
	Register(&Command{Path: []string{"convert"}, Usage: "FILE.ofd -o FILE.pdf",
		Short: "convert an OFD document to PDF (pages drawn as the preview shows them)", Run: runConvert})
}

func runConvert(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "convert", "FILE.ofd -o FILE.pdf")
	out := fs.String("o", "", "output PDF file")
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return Usagef("convert takes one FILE.ofd (got %d arguments)", len(args))
	}
	if *out == "" {
		return Usagef("convert needs -o FILE.pdf")
	}
	if !strings.EqualFold(strings.TrimSpace(*out)[max(0, len(strings.TrimSpace(*out))-4):], ".pdf") {
		return Usagef("convert writes PDF: the output name %s should end in .pdf", *out)
	}
	if same, err := samePath(args[0], *out); err != nil || same {
		return Usagef("output %s is the input file: SealDesk never overwrites the original", *out)
	}
	rd, err := ofd.OpenFile(args[0], nil)
	if err != nil {
		return Usagef("%s: %v", args[0], err)
	}
	defer rd.Close()
	err = document.WriteFileAtomic(*out, func(w io.Writer) error {
		return rd.WritePDF(ctx, w, nil)
	})
	if err != nil {
		return Usagef("converting %s: %v", args[0], err)
	}
	return nil
}
