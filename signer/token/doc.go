// Package token gives SealDesk its USB keys: PKCS#11 modules (github.com/miekg/pkcs11, cgo
// only), a hot-plug Watcher, RFC 7512 URIs, and a Fake token for tests and UI work.
//
// Contract:
//
//   - A Store is one loaded PKCS#11 module (OpenModule). It implements signer.KeyStore:
//     Identities lists every token's certificates and seal data objects without logging in;
//     Open logs in with the PIN and returns an identity whose Signer signs on the token.
//     A Store also implements Lister, so a Watcher can poll it.
//   - Identities: each certificate with a non-empty CKA_ID that is not a CA certificate names
//     an identity; Open pairs it with the private key of the same CKA_ID. Other certificates on
//     the token form the chain. Seals are CKO_DATA objects labelled "seal" or with application
//     "SealDesk"; a seal goes to the identities whose certificate it embeds (or to all the
//     token's identities when it embeds none, e.g. hash-type certificate lists).
//   - Signing hashes on the host and sends only digests: RSA PKCS#1 v1.5 (CKM_RSA_PKCS over a
//     DigestInfo built here), RSA-PSS (CKM_RSA_PKCS_PSS), ECDSA (CKM_ECDSA, raw r‖s converted to
//     DER), SM2 through the vendor mechanism number configured in Module.SM2 (raw SM2 over
//     e = SM3(Z‖M), the signer package's SM2 convention). The SM2 path is UNTESTED: SoftHSM2
//     has no SM2, and no real SM2 token was at hand.
//   - PINs: passed as []byte and never logged or kept. On Linux, macOS and FreeBSD, C_Login
//     is called through the module's exported symbol with the caller's bytes, so no copy of
//     the PIN exists; elsewhere (Windows, or a module that does not export C_Login)
//     miekg/pkcs11 makes one C copy that it frees unwiped (residual risk). A locked PIN (CKF_USER_PIN_LOCKED) returns
//     signer.ErrPINLocked without calling C_Login. A wrong PIN returns *signer.PINError whose
//     Reason/TriesLeft come from CKF_USER_PIN_COUNT_LOW / FINAL_TRY / LOCKED read after the
//     failure. Nothing here ever retries a PIN. PIN-pad readers
//     (CKF_PROTECTED_AUTHENTICATION_PATH): pass an empty PIN; C_Login then gets NULL and the
//     reader asks for the PIN.
//   - Watcher polls each Lister every 300 ms (GetSlotList+GetTokenInfo; tokens keyed by
//     signer.TokenInfo.Key(), never by slot ID) and sends signer.Event values: the first poll
//     reports every present token as inserted. A module call that errors or does not answer
//     within the timeout yields a ModuleError event; the watcher keeps going and never stacks
//     a second call on a module that hangs. C_WaitForSlotEvent is not used: SoftHSM and OpenSC
//     do not support the blocking form, and miekg/pkcs11 drops its return code.
//   - Modules that snapshot their tokens at C_Initialize (SoftHSM2) are marked Reinit: the
//     watcher re-initialises them on each poll, but only while no session of ours is open on
//     them (re-initialising closes every session).
//   - Built with CGO_ENABLED=0, OpenModule and every Store method fail with ErrNotBuiltIn
//     ("PKCS#11 support is not built in (built with CGO_ENABLED=0)"); URIs, module discovery,
//     the Watcher and the Fake work everywhere.
//
// # Module discovery
//
// Candidates returns the modules of the table below whose file exists on this machine
// (Windows: under %SystemRoot%\System32 unless a full path is given). Configured modules
// always come first. The Chinese vendor paths come from public installers and client code
// (desktop.md §3.4); verify them against the vendor's installer. Vendors that ship only a
// GM/T 0016 SKF library (Haitai, NETCA, BJCA) are not PKCS#11 and are not listed.
//
//	vendor / product              Linux                                          Windows                         notes
//	SoftHSM2                      /usr/lib/softhsm/libsofthsm2.so,               softhsm2-x64.dll,               Reinit (snapshots tokens)
//	                              /usr/lib/{x86_64,aarch64}-linux-gnu/softhsm/,  C:\SoftHSM2\lib\softhsm2-x64.dll
//	                              /usr/local/lib/softhsm/, /usr/lib64/pkcs11/
//	OpenSC                        /usr/lib/{x86_64,aarch64}-linux-gnu/           opensc-pkcs11.dll,
//	                              opensc-pkcs11.so, /usr/lib64/opensc-pkcs11.so  C:\Program Files\OpenSC Project\OpenSC\pkcs11\opensc-pkcs11.dll
//	Longmai mToken GM3000 (龙脉)   /usr/lib/libgm3000_pkcs11.so,                  gm3000_pkcs11.dll               SM2 via vendor mechanism
//	                              /usr/local/lib/libgm3000_pkcs11.so
//	Longmai mToken CryptoID       /opt/CryptoIDE/lib/libcryptoide_pkcs11.so      cryptoide_pkcs11.dll
//	Feitian ePass3000GM (飞天)     /usr/lib/libes_3000gm.so.1.0.0,                ShuttleCsp11_3000GM.dll         SM2 via vendor mechanism
//	                              /usr/local/lib/libes_3000gm.so.1.0.0
//	Feitian ePass2003             /usr/lib/libeps2003csp11.so,                   eps2003csp11.dll,               OpenSC also drives it
//	                              /usr/local/lib/libeps2003csp11.so              eps2003csp11v2.dll
//	WatchData (握奇)               (vendor path: configure it)                    WDPKCS.dll, SignatureP11.dll
//
// Anything else: add {"path": ...} to the modules of the config file (signer/keys).
package token
