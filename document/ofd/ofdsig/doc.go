// Package ofdsig signs and verifies OFD documents the GM/T 0099 way, with SES seals
// (GB/T 38540 "v4" and GM/T 0031 "v1", through package signer/ses) and, on the verifying side,
// GB/T 35275 and bare Type="Sign" signatures. It registers Sign and Verify for document.OFD;
// package ofd registers the reader (Sniff, Open), and document.Register merges the two.
// Import it for its side effect:
//
//	import _ "sealdesk/document/ofd/ofdsig"
//
// # Signing (Sign, SignWith)
//
// One signature is added without touching anything an earlier signature protects:
//
//   - OFD.xml gains a <Signatures> element only when it has none (inserted as raw bytes before
//     </DocBody>: the one rewrite the standard implies), and Signatures.xml gains one
//     <Signature ID Type="Seal" BaseLoc> and an updated MaxSignId (again by insertion; IDs
//     continue the document's own style, "s001" for a first signature).
//   - Sign_N/Seal.esl (the seal), Sign_N/Signature.xml and Sign_N/SignedValue.dat are added.
//     Signature.xml is written in XSD order: Provider SealDesk, SignatureMethod (SM3withSM2
//     1.2.156.10197.1.501 for SM2 keys), SignatureDateTime (UTC, GeneralizedTime form),
//     References CheckMethod="1.2.156.10197.1.401" with an absolute FileRef and the SM3 of the
//     stored bytes of every package file — OFD.xml, earlier signatures' files and this
//     signature's Seal.esl included — except Signatures.xml (ContinueSign, so co-signers can
//     follow; Options.Lock covers it too, which forbids any later signature), then one
//     StampAnnot per document.Stamp (page index → page ID, Boundary in mm, Clip for
//     cross-page strips), Seal/BaseLoc and SignedValue.
//   - The Signature.xml bytes are serialised once; SignedValue.dat is the SES_Signature with
//     dataHash = SM3(those bytes) and propertyInfo = the Signature.xml path.
//   - Every original ZIP entry is copied raw (compressed bytes unchanged) in its original order;
//     the package is written to the given io.Writer (document.SignFile makes that atomic).
//
// Signing refuses a document whose existing signature protects Signatures.xml (ErrLocked),
// whose signatures cannot be read, or whose archive holds unaddressable entries.
//
// # Verifying (Verify)
//
// For each signature of the first document the report (docs/CLI.md) states:
//
//   - integrity: every Reference digest recomputed over the stored bytes (CheckMethod SM3 by OID
//     or name, …401.1, …401.2 = SM3(Z‖file), MD5 (the XSD default), SHA-1, SHA-256/384/512;
//     an unknown method cannot be verified and is never valid), and the signed value over the
//     exact Signature.xml bytes: an SES_Signature via signer/ses (signature over the raw
//     TBS_Sign, dataHash, seal, signer in the seal's list), a GB/T 35275 SignedData via
//     signer/cms, or a bare signature checked with VerifyOptions.SignerCertPEM.
//   - changesAfter: files of later signatures are allowed; a protected file that changed, or a
//     file the document uses that neither the signature nor any unchanged protected file that
//     refers to it accounts for (a new page, annotation or resource), is disallowed. Which files
//     the document uses is found generically: every attribute or text of every XML file that
//     resolves as an ST_Loc to a package file is a reference, followed from OFD.xml.
//   - problems for files the document uses that the signature leaves unprotected (real
//     producers leave out OFD.xml or template pages), Seal.esl differing from the signed seal,
//     propertyInfo naming another file, stamps on missing pages;
//   - trust via signer/trust: a chain to the anchors of VerifyOptions.TrustPEM (self-signed
//     certificates there are anchors, the others intermediates: an SES signature carries no
//     chain), validity at the signing time, key usage — failed when any fails, unknown without
//     anchors; revocation (CRL/OCSP, unknown offline) is reported in its own field and fails
//     trust only when a certificate is revoked. Also the signer, the signing time and its
//     source (claimed, or a verified timestamp), the seal report, and the stamp pages and
//     visible rectangles (mm, Clip applied) for the overlay.
//
// The report's Uncovered lists package files no signature protects (signature files
// themselves excepted). A missing or broken signature list is a report problem, not an error;
// Verify returns an error only for input that is no readable OFD.
package ofdsig
