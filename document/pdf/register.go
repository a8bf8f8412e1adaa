package pdf

import (
	"bytes"

	"sealdesk/document"
)

func init() {
	// Open (preview) is registered by document/pdfium; the handler fields merge.
	document.Register(&document.Handler{Format: document.PDF, Sniff: Sniff, Sign: Sign, Verify: Verify})
}

// Sniff reports whether head (the first bytes of a file) is a PDF: "%PDF-" within the first
// 1024 bytes, as viewers accept.
func Sniff(head []byte) bool {
	if len(head) > 1024 {
		head = head[:1024]
	}
	return bytes.Contains(head, []byte("%PDF-"))
}
