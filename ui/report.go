package ui

import (
	"io"

	"sealdesk/document"
	vreport "sealdesk/internal/report"
)

// WriteReportPDF writes a verification report as an A4 PDF in the UI language (the writer is
// internal/report's, the same as `sealctl verify --report`).
func WriteReportPDF(w io.Writer, r *document.VerifyReport) error {
	return vreport.WritePDF(w, r, vreport.Options{Lang: reportLang()})
}

// reportLang is the catalogue language of the UI language.
func reportLang() vreport.Lang {
	if CurrentLang() == English {
		return vreport.English
	}
	return vreport.Chinese
}
