/*
 * bcryptprimitives.dll with just ProcessPrng, for Wine 8, which lacks it.
 * Go 1.22+ Windows binaries import ProcessPrng and fail to start without it;
 * RtlGenRandom (advapi32!SystemFunction036) is the same random source.
 */
#include <windows.h>

__declspec(dllimport) BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
	/* RtlGenRandom takes a ULONG length; a SIZE_T may be larger. */
	while (length > 0) {
		ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
		if (!SystemFunction036(data, chunk))
			return FALSE;
		data += chunk;
		length -= chunk;
	}
	return TRUE;
}
