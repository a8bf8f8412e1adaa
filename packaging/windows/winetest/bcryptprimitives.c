/* Test-only stand-in for bcryptprimitives.dll, which Debian 12's wine 8.0 lacks.
 *
 * Go 1.22+ programs import ProcessPrng from bcryptprimitives.dll at start-up; wine 8.0 has no
 * such DLL, so without this file no Go 1.26 .exe starts under Debian's wine64 at all. This DLL
 * gives ProcessPrng from advapi32's RtlGenRandom (SystemFunction036), which wine does have.
 * scripts/package-wine.sh puts it into the System32 of a private wine prefix used only by
 * `make package` (Go loads it from System32 only). It is NEVER shipped: real Windows (10 and
 * later) has the genuine DLL. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
