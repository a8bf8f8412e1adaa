/* A deliberately broken PKCS#11 module for tests of signer/token: C_Initialize works,
 * C_GetSlotList hangs (-DHANG) or fails with CKR_DEVICE_ERROR (-DFAIL); everything else
 * answers CKR_FUNCTION_NOT_SUPPORTED. Built by the test with the system C compiler.
 * The function table follows PKCS#11 v2.40's CK_FUNCTION_LIST: a CK_VERSION, then 68
 * function pointers in the standard order (C_Initialize first, C_GetSlotList fifth). */
#include <unistd.h>

typedef unsigned long rv_t;
typedef rv_t (*fn_t)(void);

struct function_list {
	unsigned char major, minor;
	fn_t fns[68];
};

static struct function_list list;

static rv_t not_supported(void) { return 0x54; /* CKR_FUNCTION_NOT_SUPPORTED */ }
static rv_t ok(void) { return 0; }

static rv_t get_slot_list(void) {
#ifdef HANG
	for (;;) sleep(3600);
#endif
	return 0x30; /* CKR_DEVICE_ERROR */
}

rv_t C_GetFunctionList(struct function_list **out) {
	list.major = 2;
	list.minor = 40;
	for (int i = 0; i < 68; i++) list.fns[i] = not_supported;
	list.fns[0] = ok;            /* C_Initialize */
	list.fns[1] = ok;            /* C_Finalize */
	list.fns[4] = get_slot_list; /* C_GetSlotList */
	*out = &list;
	return 0;
}
