// Command fakeskf is a software GM/T 0016 (SKF) library for SealDesk's tests, built with
// -buildmode=c-shared and loaded through the same dlopen path as a vendor library. It keeps
// its devices as files so that a test (or another process) can plug and pull them:
//
//	$SEALDESK_SKF_FAKE/devices/NAME/device.json   a present device (see devFile)
//	$SEALDESK_SKF_FAKE/control.json               {"noWaitEvent": true, "hangEnum": true}
//
// Moving a device directory out of devices/ pulls the key; moving it back plugs it in. Every
// call on a handle of a pulled device returns SAR_DEVICE_REMOVED, including a signature in
// progress (signDelayMs makes SKF_ECCSignData take that long; it touches "signing" in the
// device directory when it starts). PIN retry counters are stored in device.json, so they
// survive across processes, and every SKF_VerifyPIN call is counted in "verifycount".
package main

/*
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
typedef uint32_t ULONG;
typedef int32_t BOOL;
typedef void *HANDLE;
typedef unsigned char BYTE;
*/
import "C"

import (
	"crypto/rand"
	"encoding/asn1"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/emmansun/gmsm/sm2"
)

const (
	sarOK             = 0
	sarFail           = 0x0A000001
	sarNotSupported   = 0x0A000003
	sarInvalidHandle  = 0x0A000005
	sarInvalidParam   = 0x0A000006
	sarKeyNotFound    = 0x0A00001B
	sarCertNotFound   = 0x0A00001C
	sarBufferTooSmall = 0x0A000020
	sarDeviceRemoved  = 0x0A000023
	sarPINIncorrect   = 0x0A000024
	sarPINLocked      = 0x0A000025
	sarNotLoggedIn    = 0x0A00002D
	sarAppNotExists   = 0x0A00002E
	sarFileNotExist   = 0x0A000031
	sarIndataLen      = 0x0A000010
)

type conFile struct {
	Name     string `json:"name"`
	SignKey  []byte `json:"signKey,omitempty"` // SM2 private scalar, 32 bytes
	SignCert []byte `json:"signCert,omitempty"`
	EncKey   []byte `json:"encKey,omitempty"`
	EncCert  []byte `json:"encCert,omitempty"`
}

type appFile struct {
	Name       string            `json:"name"`
	UserPIN    string            `json:"userPIN"`
	MaxRetry   int               `json:"maxRetry"`
	Remain     int               `json:"remain"`
	Containers []conFile         `json:"containers"`
	Files      map[string][]byte `json:"files,omitempty"`
}

type devFile struct {
	Serial       string    `json:"serial"`
	Manufacturer string    `json:"manufacturer"`
	Label        string    `json:"label"`
	Apps         []appFile `json:"apps"`
	SignDelayMs  int       `json:"signDelayMs,omitempty"`
}

type control struct {
	NoWaitEvent bool `json:"noWaitEvent"`
	HangEnum    bool `json:"hangEnum"`
}

var (
	mu      sync.Mutex
	handles = map[uintptr]any{}
	rootDir string
	rootMu  sync.Once
)

// stateRoot reads the state directory from the C environment: a c-shared Go library sees
// the environment the process started with, not what the host set later with setenv.
func stateRoot() string {
	rootMu.Do(func() {
		name := C.CString("SEALDESK_SKF_FAKE")
		defer C.free(unsafe.Pointer(name))
		if v := C.getenv(name); v != nil {
			rootDir = C.GoString(v)
		}
	})
	return rootDir
}

type devH struct{ name string }
type appH struct {
	dev      *devH
	name     string
	loggedIn bool
}
type conH struct {
	app  *appH
	name string
}

func newHandle(v any) C.HANDLE {
	p := C.malloc(1)
	mu.Lock()
	handles[uintptr(p)] = v
	mu.Unlock()
	return C.HANDLE(p)
}

func getHandle(h C.HANDLE) any {
	mu.Lock()
	defer mu.Unlock()
	return handles[uintptr(unsafe.Pointer(h))]
}

func dropHandle(h C.HANDLE) bool {
	mu.Lock()
	_, ok := handles[uintptr(unsafe.Pointer(h))]
	delete(handles, uintptr(unsafe.Pointer(h)))
	mu.Unlock()
	if ok {
		C.free(unsafe.Pointer(h))
	}
	return ok
}

func devDir(name string) string { return filepath.Join(stateRoot(), "devices", name) }

func readControl() control {
	var c control
	if b, err := os.ReadFile(filepath.Join(stateRoot(), "control.json")); err == nil {
		json.Unmarshal(b, &c)
	}
	return c
}

func present() []string {
	ents, _ := os.ReadDir(filepath.Join(stateRoot(), "devices"))
	var out []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(stateRoot(), "devices", e.Name(), "device.json")); err == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// load reads the device's file; a device that is gone gives SAR_DEVICE_REMOVED.
func load(name string) (*devFile, C.ULONG) {
	b, err := os.ReadFile(filepath.Join(devDir(name), "device.json"))
	if err != nil {
		return nil, sarDeviceRemoved
	}
	var d devFile
	if json.Unmarshal(b, &d) != nil {
		return nil, sarFail
	}
	return &d, sarOK
}

func save(name string, d *devFile) C.ULONG {
	b, _ := json.MarshalIndent(d, "", "  ")
	dir := devDir(name)
	tmp := filepath.Join(dir, ".device.json.tmp")
	if os.WriteFile(tmp, b, 0o600) != nil {
		return sarDeviceRemoved
	}
	if os.Rename(tmp, filepath.Join(dir, "device.json")) != nil {
		return sarDeviceRemoved
	}
	return sarOK
}

func (d *devFile) app(name string) *appFile {
	for i := range d.Apps {
		if d.Apps[i].Name == name {
			return &d.Apps[i]
		}
	}
	return nil
}

func (a *appFile) con(name string) *conFile {
	for i := range a.Containers {
		if a.Containers[i].Name == name {
			return &a.Containers[i]
		}
	}
	return nil
}

func bytesAt(p unsafe.Pointer, n int) []byte { return unsafe.Slice((*byte)(p), n) }

// putList writes a multi-string list with the standard's two-call protocol.
func putList(names []string, buf *C.char, size *C.ULONG) C.ULONG {
	if size == nil {
		return sarInvalidParam
	}
	s := strings.Join(names, "\x00") + "\x00\x00"
	if len(names) == 0 {
		s = "\x00\x00"
	}
	if buf == nil {
		*size = C.ULONG(len(s))
		return sarOK
	}
	if int(*size) < len(s) {
		*size = C.ULONG(len(s))
		return sarBufferTooSmall
	}
	copy(bytesAt(unsafe.Pointer(buf), len(s)), s)
	*size = C.ULONG(len(s))
	return sarOK
}

func putBytes(v []byte, buf *C.BYTE, size *C.ULONG) C.ULONG {
	if size == nil {
		return sarInvalidParam
	}
	if buf == nil {
		*size = C.ULONG(len(v))
		return sarOK
	}
	if int(*size) < len(v) {
		*size = C.ULONG(len(v))
		return sarBufferTooSmall
	}
	copy(bytesAt(unsafe.Pointer(buf), len(v)), v)
	*size = C.ULONG(len(v))
	return sarOK
}

//export SKF_EnumDev
func SKF_EnumDev(bPresent C.BOOL, szNameList *C.char, pulSize *C.ULONG) C.ULONG {
	for readControl().HangEnum {
		time.Sleep(50 * time.Millisecond)
	}
	return putList(present(), szNameList, pulSize)
}

var (
	waitMu     sync.Mutex
	waitSeen   map[string]bool
	waitCancel bool
)

//export SKF_WaitForDevEvent
func SKF_WaitForDevEvent(szDevName *C.char, pulDevNameLen *C.ULONG, pulEvent *C.ULONG) C.ULONG {
	if readControl().NoWaitEvent {
		return sarNotSupported
	}
	waitMu.Lock()
	if waitSeen == nil {
		waitSeen = map[string]bool{}
		for _, n := range present() {
			waitSeen[n] = true
		}
	}
	waitCancel = false
	waitMu.Unlock()
	for {
		if readControl().NoWaitEvent {
			return sarNotSupported
		}
		waitMu.Lock()
		if waitCancel {
			waitMu.Unlock()
			*pulEvent = 0
			return sarOK
		}
		now := map[string]bool{}
		for _, n := range present() {
			now[n] = true
		}
		name, ev := "", 0
		for n := range now {
			if !waitSeen[n] {
				name, ev = n, 1
			}
		}
		for n := range waitSeen {
			if !now[n] && ev == 0 {
				name, ev = n, 2
			}
		}
		if ev != 0 {
			if ev == 1 {
				waitSeen[name] = true
			} else {
				delete(waitSeen, name)
			}
			waitMu.Unlock()
			if szDevName != nil && pulDevNameLen != nil && int(*pulDevNameLen) > len(name) {
				b := bytesAt(unsafe.Pointer(szDevName), len(name)+1)
				copy(b, name)
				b[len(name)] = 0
				*pulDevNameLen = C.ULONG(len(name) + 1)
			}
			*pulEvent = C.ULONG(ev)
			return sarOK
		}
		waitMu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
}

//export SKF_CancelWaitForDevEvent
func SKF_CancelWaitForDevEvent() C.ULONG {
	waitMu.Lock()
	waitCancel = true
	waitMu.Unlock()
	return sarOK
}

//export SKF_ConnectDev
func SKF_ConnectDev(szName *C.char, phDev *C.HANDLE) C.ULONG {
	name := C.GoString(szName)
	if _, rv := load(name); rv != sarOK {
		return rv
	}
	*phDev = newHandle(&devH{name: name})
	return sarOK
}

//export SKF_DisConnectDev
func SKF_DisConnectDev(hDev C.HANDLE) C.ULONG {
	if !dropHandle(hDev) {
		return sarInvalidHandle
	}
	return sarOK
}

//export SKF_GetDevInfo
func SKF_GetDevInfo(hDev C.HANDLE, p unsafe.Pointer) C.ULONG {
	dh, ok := getHandle(hDev).(*devH)
	if !ok {
		return sarInvalidHandle
	}
	d, rv := load(dh.name)
	if rv != sarOK {
		return rv
	}
	// DEVINFO, #pragma pack(1), 294 bytes.
	b := bytesAt(p, 294)
	clear(b)
	b[0], b[1] = 1, 0
	copy(b[2:66], d.Manufacturer)
	copy(b[66:130], "SealDesk test double")
	copy(b[130:162], d.Label)
	copy(b[162:194], d.Serial)
	binary.LittleEndian.PutUint32(b[202:], 0x00020100) // AlgAsymCap: SGD_SM2_1
	binary.LittleEndian.PutUint32(b[206:], 0x00000001) // AlgHashCap: SGD_SM3
	binary.LittleEndian.PutUint32(b[222:], 1024)       // MaxECCBufferSize
	binary.LittleEndian.PutUint32(b[226:], 1024)       // MaxBufferSize
	return sarOK
}

//export SKF_EnumApplication
func SKF_EnumApplication(hDev C.HANDLE, szAppName *C.char, pulSize *C.ULONG) C.ULONG {
	dh, ok := getHandle(hDev).(*devH)
	if !ok {
		return sarInvalidHandle
	}
	d, rv := load(dh.name)
	if rv != sarOK {
		return rv
	}
	var names []string
	for _, a := range d.Apps {
		names = append(names, a.Name)
	}
	return putList(names, szAppName, pulSize)
}

//export SKF_OpenApplication
func SKF_OpenApplication(hDev C.HANDLE, szAppName *C.char, phApp *C.HANDLE) C.ULONG {
	dh, ok := getHandle(hDev).(*devH)
	if !ok {
		return sarInvalidHandle
	}
	d, rv := load(dh.name)
	if rv != sarOK {
		return rv
	}
	name := C.GoString(szAppName)
	if d.app(name) == nil {
		return sarAppNotExists
	}
	*phApp = newHandle(&appH{dev: dh, name: name})
	return sarOK
}

//export SKF_CloseApplication
func SKF_CloseApplication(hApp C.HANDLE) C.ULONG {
	if !dropHandle(hApp) {
		return sarInvalidHandle
	}
	return sarOK
}

func appOf(h C.HANDLE) (*appH, *devFile, *appFile, C.ULONG) {
	ah, ok := getHandle(h).(*appH)
	if !ok {
		return nil, nil, nil, sarInvalidHandle
	}
	d, rv := load(ah.dev.name)
	if rv != sarOK {
		return nil, nil, nil, rv
	}
	a := d.app(ah.name)
	if a == nil {
		return nil, nil, nil, sarAppNotExists
	}
	return ah, d, a, sarOK
}

//export SKF_GetPINInfo
func SKF_GetPINInfo(hApp C.HANDLE, ulPINType C.ULONG, pulMax, pulRemain *C.ULONG, pbDefault *C.BOOL) C.ULONG {
	_, _, a, rv := appOf(hApp)
	if rv != sarOK {
		return rv
	}
	*pulMax = C.ULONG(a.MaxRetry)
	*pulRemain = C.ULONG(a.Remain)
	*pbDefault = 0
	if a.UserPIN == "123456" {
		*pbDefault = 1
	}
	return sarOK
}

//export SKF_VerifyPIN
func SKF_VerifyPIN(hApp C.HANDLE, ulPINType C.ULONG, szPIN *C.char, pulRetry *C.ULONG) C.ULONG {
	ah, d, a, rv := appOf(hApp)
	if rv != sarOK {
		return rv
	}
	countFile := filepath.Join(devDir(ah.dev.name), "verifycount")
	n := 0
	if b, err := os.ReadFile(countFile); err == nil {
		n, _ = strconv.Atoi(string(b))
	}
	os.WriteFile(countFile, []byte(strconv.Itoa(n+1)), 0o600)
	if a.Remain <= 0 {
		*pulRetry = 0
		return sarPINLocked
	}
	if C.GoString(szPIN) == a.UserPIN {
		a.Remain = a.MaxRetry
		ah.loggedIn = true
		*pulRetry = C.ULONG(a.Remain)
		return save(ah.dev.name, d)
	}
	a.Remain--
	if rv := save(ah.dev.name, d); rv != sarOK {
		return rv
	}
	*pulRetry = C.ULONG(a.Remain)
	if a.Remain == 0 {
		return sarPINLocked
	}
	return sarPINIncorrect
}

//export SKF_ClearSecureState
func SKF_ClearSecureState(hApp C.HANDLE) C.ULONG {
	ah, ok := getHandle(hApp).(*appH)
	if !ok {
		return sarInvalidHandle
	}
	ah.loggedIn = false
	return sarOK
}

//export SKF_EnumContainer
func SKF_EnumContainer(hApp C.HANDLE, szNames *C.char, pulSize *C.ULONG) C.ULONG {
	_, _, a, rv := appOf(hApp)
	if rv != sarOK {
		return rv
	}
	var names []string
	for _, c := range a.Containers {
		names = append(names, c.Name)
	}
	return putList(names, szNames, pulSize)
}

//export SKF_OpenContainer
func SKF_OpenContainer(hApp C.HANDLE, szName *C.char, phCon *C.HANDLE) C.ULONG {
	ah, _, a, rv := appOf(hApp)
	if rv != sarOK {
		return rv
	}
	name := C.GoString(szName)
	if a.con(name) == nil {
		return sarKeyNotFound
	}
	*phCon = newHandle(&conH{app: ah, name: name})
	return sarOK
}

//export SKF_CreateContainer
func SKF_CreateContainer(hApp C.HANDLE, szName *C.char, phCon *C.HANDLE) C.ULONG {
	ah, d, a, rv := appOf(hApp)
	if rv != sarOK {
		return rv
	}
	if !ah.loggedIn {
		return sarNotLoggedIn
	}
	name := C.GoString(szName)
	if a.con(name) == nil {
		a.Containers = append(a.Containers, conFile{Name: name})
		if rv := save(ah.dev.name, d); rv != sarOK {
			return rv
		}
	}
	*phCon = newHandle(&conH{app: ah, name: name})
	return sarOK
}

//export SKF_CloseContainer
func SKF_CloseContainer(hCon C.HANDLE) C.ULONG {
	if !dropHandle(hCon) {
		return sarInvalidHandle
	}
	return sarOK
}

func conOf(h C.HANDLE) (*conH, *devFile, *conFile, C.ULONG) {
	ch, ok := getHandle(h).(*conH)
	if !ok {
		return nil, nil, nil, sarInvalidHandle
	}
	d, rv := load(ch.app.dev.name)
	if rv != sarOK {
		return nil, nil, nil, rv
	}
	a := d.app(ch.app.name)
	if a == nil {
		return nil, nil, nil, sarAppNotExists
	}
	c := a.con(ch.name)
	if c == nil {
		return nil, nil, nil, sarKeyNotFound
	}
	return ch, d, c, sarOK
}

//export SKF_GetContainerType
func SKF_GetContainerType(hCon C.HANDLE, pulType *C.ULONG) C.ULONG {
	_, _, c, rv := conOf(hCon)
	if rv != sarOK {
		return rv
	}
	*pulType = 0
	if len(c.SignKey) > 0 || len(c.EncKey) > 0 {
		*pulType = 2
	}
	return sarOK
}

//export SKF_ExportCertificate
func SKF_ExportCertificate(hCon C.HANDLE, bSign C.BOOL, pbCert *C.BYTE, pulLen *C.ULONG) C.ULONG {
	_, _, c, rv := conOf(hCon)
	if rv != sarOK {
		return rv
	}
	cert := c.EncCert
	if bSign != 0 {
		cert = c.SignCert
	}
	if len(cert) == 0 {
		return sarCertNotFound
	}
	return putBytes(cert, pbCert, pulLen)
}

func privateKey(d []byte) (*sm2.PrivateKey, error) {
	if len(d) == 0 {
		return nil, errors.New("no key")
	}
	return sm2.NewPrivateKey(d)
}

// pubBlob packs ECCPUBLICKEYBLOB (132 bytes, right-aligned coordinates).
func pubBlob(k *sm2.PrivateKey) []byte {
	b := make([]byte, 132)
	binary.LittleEndian.PutUint32(b, 256)
	k.X.FillBytes(b[4:68])
	k.Y.FillBytes(b[68:132])
	return b
}

//export SKF_ExportPublicKey
func SKF_ExportPublicKey(hCon C.HANDLE, bSign C.BOOL, pbBlob *C.BYTE, pulLen *C.ULONG) C.ULONG {
	_, _, c, rv := conOf(hCon)
	if rv != sarOK {
		return rv
	}
	d := c.EncKey
	if bSign != 0 {
		d = c.SignKey
	}
	k, err := privateKey(d)
	if err != nil {
		return sarKeyNotFound
	}
	return putBytes(pubBlob(k), pbBlob, pulLen)
}

//export SKF_ECCSignData
func SKF_ECCSignData(hCon C.HANDLE, pbDigest *C.BYTE, ulLen C.ULONG, pSig unsafe.Pointer) C.ULONG {
	ch, d, c, rv := conOf(hCon)
	if rv != sarOK {
		return rv
	}
	if !ch.app.loggedIn {
		return sarNotLoggedIn
	}
	if ulLen != 32 {
		return sarIndataLen
	}
	k, err := privateKey(c.SignKey)
	if err != nil {
		return sarKeyNotFound
	}
	e := append([]byte(nil), bytesAt(unsafe.Pointer(pbDigest), 32)...)
	if d.SignDelayMs > 0 {
		dir := devDir(ch.app.dev.name)
		os.WriteFile(filepath.Join(dir, "signing"), nil, 0o600)
		for end := time.Now().Add(time.Duration(d.SignDelayMs) * time.Millisecond); time.Now().Before(end); {
			time.Sleep(10 * time.Millisecond)
			if _, err := os.Stat(filepath.Join(dir, "device.json")); err != nil {
				return sarDeviceRemoved
			}
		}
	}
	der, err := sm2.SignASN1(rand.Reader, k, e, nil)
	if err != nil {
		return sarFail
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &rs); err != nil {
		return sarFail
	}
	b := bytesAt(pSig, 128)
	clear(b)
	rs.R.FillBytes(b[0:64])
	rs.S.FillBytes(b[64:128])
	return sarOK
}

//export SKF_GenECCKeyPair
func SKF_GenECCKeyPair(hCon C.HANDLE, ulAlgID C.ULONG, pBlob unsafe.Pointer) C.ULONG {
	ch, d, c, rv := conOf(hCon)
	if rv != sarOK {
		return rv
	}
	if !ch.app.loggedIn {
		return sarNotLoggedIn
	}
	if ulAlgID != 0x00020100 {
		return sarNotSupported
	}
	k, err := sm2.GenerateKey(rand.Reader)
	if err != nil {
		return sarFail
	}
	c.SignKey = k.D.FillBytes(make([]byte, 32))
	c.SignCert = nil
	if rv := save(ch.app.dev.name, d); rv != sarOK {
		return rv
	}
	copy(bytesAt(pBlob, 132), pubBlob(k))
	return sarOK
}

//export SKF_ImportCertificate
func SKF_ImportCertificate(hCon C.HANDLE, bSign C.BOOL, pbCert *C.BYTE, ulLen C.ULONG) C.ULONG {
	ch, d, c, rv := conOf(hCon)
	if rv != sarOK {
		return rv
	}
	if !ch.app.loggedIn {
		return sarNotLoggedIn
	}
	v := append([]byte(nil), bytesAt(unsafe.Pointer(pbCert), int(ulLen))...)
	if bSign != 0 {
		c.SignCert = v
	} else {
		c.EncCert = v
	}
	return save(ch.app.dev.name, d)
}

//export SKF_EnumFiles
func SKF_EnumFiles(hApp C.HANDLE, szList *C.char, pulSize *C.ULONG) C.ULONG {
	_, _, a, rv := appOf(hApp)
	if rv != sarOK {
		return rv
	}
	var names []string
	for n := range a.Files {
		names = append(names, n)
	}
	sort.Strings(names)
	return putList(names, szList, pulSize)
}

//export SKF_GetFileInfo
func SKF_GetFileInfo(hApp C.HANDLE, szName *C.char, p unsafe.Pointer) C.ULONG {
	_, _, a, rv := appOf(hApp)
	if rv != sarOK {
		return rv
	}
	name := C.GoString(szName)
	v, ok := a.Files[name]
	if !ok {
		return sarFileNotExist
	}
	// FILEATTRIBUTE, pack(1): FileName[32], FileSize, ReadRights, WriteRights.
	b := bytesAt(p, 44)
	clear(b)
	copy(b[:32], name)
	binary.LittleEndian.PutUint32(b[32:], uint32(len(v)))
	binary.LittleEndian.PutUint32(b[36:], 0xFF) // SECURE_ANYONE_ACCOUNT
	binary.LittleEndian.PutUint32(b[40:], 0x10) // SECURE_USER_ACCOUNT
	return sarOK
}

//export SKF_ReadFile
func SKF_ReadFile(hApp C.HANDLE, szName *C.char, ulOffset, ulSize C.ULONG, pbOut *C.BYTE, pulOutLen *C.ULONG) C.ULONG {
	_, _, a, rv := appOf(hApp)
	if rv != sarOK {
		return rv
	}
	v, ok := a.Files[C.GoString(szName)]
	if !ok {
		return sarFileNotExist
	}
	off, n := int(ulOffset), int(ulSize)
	if off > len(v) {
		return sarInvalidParam
	}
	n = min(n, len(v)-off)
	copy(bytesAt(unsafe.Pointer(pbOut), n), v[off:off+n])
	*pulOutLen = C.ULONG(n)
	return sarOK
}

func main() {}
