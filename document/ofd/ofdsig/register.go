package ofdsig

import "sealdesk/document"

func init() {
	document.Register(&document.Handler{Format: document.OFD, Sign: Sign, Verify: Verify})
}
