package cli

// The formats register themselves with package document; the CLI offers all of them.
import (
	_ "sealdesk/document/ofd"        // OFD reading, rendering, search
	_ "sealdesk/document/ofd/ofdsig" // OFD signing and verification (GM/T 0099)
	_ "sealdesk/document/pdf"        // PDF signing and verification
	_ "sealdesk/document/pdfium"     // PDF preview, text search
)
