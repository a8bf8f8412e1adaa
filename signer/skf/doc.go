// Package skf gives SealDesk the Chinese USB keys that speak GM/T 0016 (SKF, 智能密码钥匙密码
// 应用接口规范) instead of PKCS#11: the vendor's library is loaded at run time (dlopen on
// Linux/macOS, LoadLibrary on Windows; nothing is linked at build time) and its keys appear
// behind the same signer.Identity and token.Lister interfaces as PKCS#11 tokens.
//
// Contract:
//
//   - A Store is one library (Open; loaded once per process and never unloaded). It
//     implements signer.KeyStore: List/Identities read devices (SKF_EnumDev, SKF_ConnectDev,
//     SKF_GetDevInfo), applications, containers and certificates without a PIN; Open verifies
//     the PIN and returns an identity whose Signer signs on the key. A Store is a
//     token.Lister, so the token Watcher (and signer/keys.Watch) reports its devices.
//   - Identities: each container with an SM2 signing certificate (SKF_ExportCertificate with
//     bSignFlag TRUE) is one identity, URI skf:lib=…;dev=…;app=…;con=… (URI). The encryption
//     certificate (bSignFlag FALSE) is read and reported apart (Container.EncCert) and never
//     signs. Seals come from a file of the application (Library.SealFile, default "seal"):
//     one or more DER SES seals, fixed-size padding after them ignored; a seal goes to the
//     identities whose certificate it binds (token.SealsFor). Containers hold no CA
//     certificates, so Identity.Chain is empty: verifiers need the issuing CA.
//   - Signing: the caller computes e = SM3(Z‖M) with the signer's public key and the default
//     user ID (the signer package's SM2 convention); SKF_ECCSignData signs e; the returned
//     ECCSIGNATUREBLOB (r and s right-aligned in 64-byte fields) becomes DER SEQUENCE{r, s}
//     and is verified against the certificate's key before it is returned (a left-aligned
//     vendor blob is recognised that way). With sm2.DefaultSM2SignerOpts the digest argument
//     is the message and e is computed here (smx509 signs certificate requests that way).
//   - PIN: SKF_GetPINInfo is read first; a locked PIN (0 tries left) returns
//     signer.ErrPINLocked without calling SKF_VerifyPIN. A wrong PIN returns *signer.PINError
//     with the exact retry count from SKF_VerifyPIN ("final try" at 1, "locked" at 0).
//     Nothing here ever retries a PIN. The PIN is copied once into C memory with its NUL
//     terminator (SKF takes a C string) and that copy is wiped before it is freed.
//   - Key generation: GenerateRequest verifies the PIN, creates the container when missing,
//     runs SKF_GenECCKeyPair (SGD_SM2_1) and returns a PKCS#10 request signed on the key;
//     ImportCertificate writes the issued certificate back (the lifecycle's apply step).
//   - Structures (DEVINFO, ECCPUBLICKEYBLOB, ECCSIGNATUREBLOB, FILEATTRIBUTE) are read and
//     written packed to 1 byte with a 32-bit ULONG, as the standard's headers declare; every
//     buffer handed to the library has slack, and every ULONG/BOOL out-parameter is a
//     zeroed 64-bit cell, so a vendor build with a 64-bit ULONG cannot write past them
//     (its structures would still be misread: such builds are not supported). Errors carry
//     the standard's SAR_* code and name (Error, CodeOf); SAR_DEVICE_REMOVED matches
//     ErrDeviceRemoved (= token.ErrTokenRemoved).
//   - Hangs: every library call runs with a timeout (CallTimeout, SignTimeout); a call that
//     does not return is abandoned with ErrHung and, until it returns, every further call is
//     refused at once, so a hung library never blocks the app.
//   - Device events: where the library exports SKF_WaitForDevEvent, one thread per library
//     waits in it and each event wakes the watcher at once (Tokens waits up to 1 s for the
//     next event before it polls anyway); a library that answers SAR_NOTSUPPORTYETERR (or
//     keeps failing, or Library.NoWait) is polled with SKF_EnumDev at the watcher's interval
//     (300 ms). Devices are keyed by name, serial and manufacturer; the TokenInfo the watcher
//     reports carries the PIN flags of the device's applications, read when the device
//     appears and again after every PIN verification (so a lockout shows as a change).
//   - Built with CGO_ENABLED=0, Open fails with ErrNotBuiltIn ("SKF (GM/T 0016) support is
//     not built in (built with CGO_ENABLED=0)"); URIs and the vendor table work everywhere.
//
// # Vendor libraries
//
// Candidates returns the libraries of this table whose file exists (Windows: under
// %SystemRoot%\System32 unless a full path is given). Configured libraries come first
// (signer/keys config: "skf": [{"path": …, "name": …, "sealFile": …, "noWait": …}]). The
// names come from public installers and client code (desktop.md §3.4); verify them against
// the vendor's installer. A 64-bit SealDesk loads only 64-bit libraries.
//
//	vendor / product          Linux                                     Windows
//	Longmai mToken GM3000     /usr/lib/libgm3000.1.0.so,                mtoken_gm3000.dll (CA copies e.g.
//	(龙脉)                    /usr/local/lib/libgm3000.1.0.so,          mtoken_gm3000_xjca.dll: configure)
//	                          /opt/longmai/lib/libgm3000.1.0.so
//	Feitian ePass3000GM (飞天) /usr/lib/libes_3000gm.so.1.0.0,           ShuttleCsp11_3000GM.dll (SKF and
//	                          /usr/local/lib/libes_3000gm.so.1.0.0      PKCS#11 in one DLL)
//	Haitai (海泰)              (vendor path: configure it)               SKFAPI20538.dll, SKF_HT_NMG.dll
//	NETCA (网证通)             —                                         NetcaSKF.dll
//	BJCA keys (Linguo / ZTXA) —                                         lgu3073_p1514_gm.dll, USK218_GM.dll
//	WatchData (握奇)           (vendor path: configure it)               WDSKF.dll
package skf
