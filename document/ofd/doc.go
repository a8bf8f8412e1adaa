// Package ofd reads, renders and searches OFD documents (GB/T 33190-2016), the Chinese fixed
// layout format of e-invoices and sealed documents, and registers the format with package
// document (document.OFD).
//
// Layers, bottom up:
//
//   - Package (OpenPackage): the ZIP container, opened from an io.ReaderAt and safe against hostile
//     archives (limits on entries, per-file and total uncompressed size and compression ratio,
//     entry names escaping the root or duplicated). ReadFile returns the stored bytes of a file,
//     which is what signature digests cover. Resolve turns an ST_Loc into a canonical package
//     path ("/Doc_0/Pages/Page_0/Content.xml"): absolute from the root, or relative to the
//     directory of the file that holds it; ".." may not climb above the root. Lookup falls back
//     to a unique case-insensitive match (real files mix "TPLS" and "Tpls").
//   - ParseXML: XML into a namespace-free Node tree (local names only, document order kept) with
//     limits on size, depth and element count; DTDs and entities are refused.
//   - The read model: Root (OFD.xml), Doc (Document.xml), Resources (Res files: colour spaces,
//     draw parameters, fonts, multimedia, composite units), Page (pages and templates with
//     layers), Annot (annotations), Signatures and Signature (Signatures.xml, Signature.xml with
//     References, StampAnnots, Seal and SignedValue locations). Reader ties them together
//     for the first DocBody, parsing pages and lists on demand.
//   - Rendering (Render/Draw into a tdewolff/canvas context) feeding both the raster preview and
//     the PDF export (ExportPDF), text extraction and search, and Document, the
//     document.Document implementation.
//
// Every error for bad input is an *Error wrapping one of the Err* kinds and naming the package
// file. Nothing here modifies the input.
package ofd
