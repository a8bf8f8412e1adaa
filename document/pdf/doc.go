// Package pdf signs and verifies PDF documents for SealDesk. It registers the PDF handler's
// Sniff, Sign and Verify with package document (preview and text search are document/pdfium's).
//
// # Contract
//
// Reading: Reader is a lazy parser over an io.ReaderAt. It reads the cross-reference data
// (classic tables, xref streams, hybrid /XRefStm files, object streams, /Prev chains, offsets a
// few bytes off) and then only the objects asked for; stream data stays in the file until
// StreamData is called. Every revision can be viewed on its own (Reader.ViewAt, Revisions).
// Broken cross-references are rebuilt by scanning object headers (Reader.Repaired); such files
// are verified but never signed. Malformed input yields errors (SyntaxError, XrefError wrapping
// ErrBrokenXref), never a panic (fuzzed: FuzzReader, FuzzVerify, FuzzSign).
//
// Why not pdfcpu here: pdfcpu (the project's PDF library, used in tests and for structural
// cross-checks) loads every stream into memory (853 MB RSS to sign a 200 MB file), drops
// /Reference and /Prop_Build from signature dictionaries, recycles free object numbers and
// writes non-ASCII strings as raw UTF-8. Signing and verifying use this package's reader and
// writer instead: measured 25 MB peak RSS to sign and 19 MB to verify a 200 MB file.
//
// Signing (Sign): always an incremental update after the unchanged original bytes, with a
// cross-reference section of the previous kind (table or stream), /Prev, /Size above every
// number ever used, /ID kept. One signature field per request; one widget per document.Stamp
// (several for keyword hits and cross-page strips), each with an appearance drawing the seal
// picture (alpha as /SMask) at its physical size, converted through CropBox, /Rotate and
// /UserUnit. The signature dictionary has a /Contents placeholder of Container.MaxSize bytes
// and a fixed-width /ByteRange patched before anything is written; the digest is computed while
// the original is copied to the output (one pass, nothing of the document held in memory). A
// container larger than its MaxSize (e.g. an unexpectedly big TSA token) is never truncated: the
// increment is laid out once more with a larger placeholder and signed again (the hash state
// after the original bytes is cloned, so the input is not read twice); a second overflow is a
// *PlaceholderError. SignField signs an existing empty signature field instead of a new one.
// FieldMDP (a signed field's /Lock, a /Reference /TransformMethod /FieldMDP; /Action
// All|Include|Exclude with /Fields) is honoured: filling a locked field is a *FieldLockedError,
// and a lock with PDF 2.0's /P 1 refuses any further signature.
// Profiles: pades (ETSI.CAdES.detached, CMS with PAdES attributes, RSA/ECDSA/SM2, B-T with a
// TSA), pdf-gm (adbe.pkcs7.detached, GM/T 0010 CMS, SM2 only), pdf-ses (a GB/T 38540
// SES_Signature in /Contents under /SubFilter /GB38540.SES, see docs/pdf-ses.md; the signer's
// chain goes to /DSS). SignRequest.Certify makes the first signature a DocMDP certification.
// Encrypted input is refused (ErrEncrypted).
//
// Verifying (Verify) per signature: /ByteRange shape; its end must be a revision end; the gap
// must be exactly the /Contents string of this signature dictionary as parsed from the signed
// revision; the dictionary must not be redefined later (values are read from the signed
// revision); the container is recognised by its ASN.1 (CMS, SES, RFC 3161 document time-stamp,
// legacy adbe.x509.rsa_sha1 / adbe.pkcs7.sha1), the ranges are hashed by streaming, and the
// chain is checked by signer/trust. Later revisions are compared object by object with the
// signed one and classified by each object's role (changes.go, roles.go): new signatures, DSS
// and metadata are allowed; form filling needs DocMDP P=2/3 and annotations P=3; anything that
// changes what pages show, shadow content prepared in the signed bytes, xref re-pointing,
// signature-dictionary spoofing and objects appended after the last %%EOF are disallowed. Changes
// to fields (values, widgets, appearances) that a signature of the signed revision locked with
// FieldMDP, and new signatures after a /P 1 lock, are disallowed as CodeFieldLocked.
// Problem codes are the Code* constants.
package pdf
