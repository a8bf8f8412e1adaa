// Package cms makes and verifies CMS/PKCS#7 SignedData (RFC 5652) for RSA, ECDSA and SM2, in
// the standard PKCS#7 identifiers and in the GM/T 0010 (GB/T 35275) identifiers that Chinese
// PDF and OFD signatures use. It is built on gmsm's sm2/sm3/smx509 and x/crypto/cryptobyte;
// gmsm's pkcs7 is not used (it always writes signing-time, rejects sigAlg 1.2.156.10197.1.501
// and RSA-PSS, and never checks the content-type attribute).
//
// # Signing
//
// Sign(ctx, digest, Options) returns a detached SignedData over content the caller hashed
// itself (so PDFs and OFD packages are streamed), as DER. Signed attributes: content-type
// (id-data, or the GM data OID in GM style), message-digest, signing-certificate-v2 (ESSCertIDv2
// with issuerSerial; hash = the signature digest) and, unless Options.PAdES, signing-time.
// Signature algorithms written:
//
//	RSA    rsaEncryption (PKCS#1 v1.5) or RSASSA-PSS (Options.RSAPSS, salt = hash length)
//	ECDSA  ecdsa-with-SHA256/384/512
//	SM2    SM3withSM2 1.2.156.10197.1.501 (Standard style) or SM2-1 1.2.156.10197.1.301.1 (GM
//	       style); e = SM3(Z‖signedAttrs) with the default ID 1234567812345678; the Identity's
//	       Signer gets e (signer package SM2 convention)
//
// With Options.TSA the signature value is time-stamped (RFC 3161) and the token stored as the
// signature-time-stamp unsigned attribute (PAdES B-T). Options.SubjectKeyID identifies the
// signer by subject key identifier (SignerInfo v3) instead of issuer and serial. SignEncapsulated
// makes attached SignedData (the test TSA's tokens). NewContainer wraps the same as a
// signer.Container; its MaxSize counts all certificates, the signature and a time-stamp reserve.
//
// # Verifying
//
// Parse accepts DER and the BER real producers write (converted to DER), and trailing zero
// bytes (PDF /Contents padding) but no other trailing data. SignedData.Verify(contentDigest,
// VerifyOptions) checks one SignerInfo and returns a Result with named Checks
// (ok | failed | unknown) and OK = all ok. It finds the signer by issuer+serial (also by
// issuer value when re-encoded) or subject key ID; checks content-type against
// encapContentInfo (the GM data and id-data OIDs count as the same "data"), message-digest,
// ESS signing-certificate(-v2) and CMSAlgorithmProtection (RFC 6211) when present, the signature (RSA PKCS#1 v1.5 incl. SHA-1 and
// SHA-3 digests, RSA-PSS, ECDSA, SM2 under sigAlg 301.1, 501, 301 or id-ecPublicKey with an
// SM2 certificate, DER or raw r‖s values), the optional PAdES B-B profile, and a
// signature-time-stamp token when present (its imprint must be the hash of the signature).
//
// Attached content must be bound by the caller (ExpectContent or its digest); otherwise the
// encapsulated-content check is "unknown" and the Result not OK.
//
// Legacy forms the callers pick explicitly:
//   - adbe.pkcs7.sha1: the encapsulated content is SHA-1(signed ranges); pass
//     VerifyOptions.ExpectContent = that SHA-1 and a nil digest.
//   - GB/T 35275 hash-attached (OFD Type=Sign, ofdrw GBT35275DSContainer): no signed
//     attributes, encapsulated content = SM3(Signature.xml), the SM2 signature covers it;
//     pass ExpectContent = SM3(Signature.xml) and a nil digest.
//   - GB/T 35275 with signed attributes: an ordinary detached signature; pass
//     SM3(Signature.xml) as contentDigest.
//
// Verify judges cryptography and the CMS profile only. Chains, trust anchors, validity periods
// and revocation belong to signer/trust, which starts from Result.Signer and
// Result.Certificates. Time-stamp tokens (RFC 3161) are parsed and verified here too
// (VerifyTimestamp, TimestampInfo) because they are SignedData; signer/tsa adds the client and
// a test TSA on top.
package cms
