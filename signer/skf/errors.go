package skf

import (
	"errors"
	"fmt"
	"sealdesk/signer/token"
)

// Code is a GM/T 0016 return value (SAR_*). 0 is SAR_OK.
type Code uint32

// The standard's error table (GM/T 0016-2012 §6.4 / 2023 appendix; the values are the same).
const (
	SAR_OK                        Code = 0x00000000
	SAR_FAIL                      Code = 0x0A000001
	SAR_UNKNOWNERR                Code = 0x0A000002
	SAR_NOTSUPPORTYETERR          Code = 0x0A000003
	SAR_FILEERR                   Code = 0x0A000004
	SAR_INVALIDHANDLEERR          Code = 0x0A000005
	SAR_INVALIDPARAMERR           Code = 0x0A000006
	SAR_READFILEERR               Code = 0x0A000007
	SAR_WRITEFILEERR              Code = 0x0A000008
	SAR_NAMELENERR                Code = 0x0A000009
	SAR_KEYUSAGEERR               Code = 0x0A00000A
	SAR_MODULUSLENERR             Code = 0x0A00000B
	SAR_NOTINITIALIZEERR          Code = 0x0A00000C
	SAR_OBJERR                    Code = 0x0A00000D
	SAR_MEMORYERR                 Code = 0x0A00000E
	SAR_TIMEOUTERR                Code = 0x0A00000F
	SAR_INDATALENERR              Code = 0x0A000010
	SAR_INDATAERR                 Code = 0x0A000011
	SAR_GENRANDERR                Code = 0x0A000012
	SAR_HASHOBJERR                Code = 0x0A000013
	SAR_HASHERR                   Code = 0x0A000014
	SAR_GENRSAKEYERR              Code = 0x0A000015
	SAR_RSAMODULUSLENERR          Code = 0x0A000016
	SAR_CSPIMPRTPUBKEYERR         Code = 0x0A000017
	SAR_RSAENCERR                 Code = 0x0A000018
	SAR_RSADECERR                 Code = 0x0A000019
	SAR_HASHNOTEQUALERR           Code = 0x0A00001A
	SAR_KEYNOTFOUNTERR            Code = 0x0A00001B
	SAR_CERTNOTFOUNTERR           Code = 0x0A00001C
	SAR_NOTEXPORTERR              Code = 0x0A00001D
	SAR_DECRYPTPADERR             Code = 0x0A00001E
	SAR_MACLENERR                 Code = 0x0A00001F
	SAR_BUFFER_TOO_SMALL          Code = 0x0A000020
	SAR_KEYINFOTYPEERR            Code = 0x0A000021
	SAR_NOT_EVENTERR              Code = 0x0A000022
	SAR_DEVICE_REMOVED            Code = 0x0A000023
	SAR_PIN_INCORRECT             Code = 0x0A000024
	SAR_PIN_LOCKED                Code = 0x0A000025
	SAR_PIN_INVALID               Code = 0x0A000026
	SAR_PIN_LEN_RANGE             Code = 0x0A000027
	SAR_USER_ALREADY_LOGGED_IN    Code = 0x0A000028
	SAR_USER_PIN_NOT_INITIALIZED  Code = 0x0A000029
	SAR_USER_TYPE_INVALID         Code = 0x0A00002A
	SAR_APPLICATION_NAME_INVALID  Code = 0x0A00002B
	SAR_APPLICATION_EXISTS        Code = 0x0A00002C
	SAR_USER_NOT_LOGGED_IN        Code = 0x0A00002D
	SAR_APPLICATION_NOT_EXISTS    Code = 0x0A00002E
	SAR_FILE_ALREADY_EXIST        Code = 0x0A00002F
	SAR_NO_ROOM                   Code = 0x0A000030
	SAR_FILE_NOT_EXIST            Code = 0x0A000031
	SAR_REACH_MAX_CONTAINER_COUNT Code = 0x0A000032
)

var codeNames = map[Code]string{
	SAR_OK: "SAR_OK", SAR_FAIL: "SAR_FAIL", SAR_UNKNOWNERR: "SAR_UNKNOWNERR",
	SAR_NOTSUPPORTYETERR: "SAR_NOTSUPPORTYETERR", SAR_FILEERR: "SAR_FILEERR",
	SAR_INVALIDHANDLEERR: "SAR_INVALIDHANDLEERR", SAR_INVALIDPARAMERR: "SAR_INVALIDPARAMERR",
	SAR_READFILEERR: "SAR_READFILEERR", SAR_WRITEFILEERR: "SAR_WRITEFILEERR", SAR_NAMELENERR: "SAR_NAMELENERR",
	SAR_KEYUSAGEERR: "SAR_KEYUSAGEERR", SAR_MODULUSLENERR: "SAR_MODULUSLENERR",
	SAR_NOTINITIALIZEERR: "SAR_NOTINITIALIZEERR", SAR_OBJERR: "SAR_OBJERR", SAR_MEMORYERR: "SAR_MEMORYERR",
	SAR_TIMEOUTERR: "SAR_TIMEOUTERR", SAR_INDATALENERR: "SAR_INDATALENERR", SAR_INDATAERR: "SAR_INDATAERR",
	SAR_GENRANDERR: "SAR_GENRANDERR", SAR_HASHOBJERR: "SAR_HASHOBJERR", SAR_HASHERR: "SAR_HASHERR",
	SAR_GENRSAKEYERR: "SAR_GENRSAKEYERR", SAR_RSAMODULUSLENERR: "SAR_RSAMODULUSLENERR",
	SAR_CSPIMPRTPUBKEYERR: "SAR_CSPIMPRTPUBKEYERR", SAR_RSAENCERR: "SAR_RSAENCERR", SAR_RSADECERR: "SAR_RSADECERR",
	SAR_HASHNOTEQUALERR: "SAR_HASHNOTEQUALERR", SAR_KEYNOTFOUNTERR: "SAR_KEYNOTFOUNTERR",
	SAR_CERTNOTFOUNTERR: "SAR_CERTNOTFOUNTERR", SAR_NOTEXPORTERR: "SAR_NOTEXPORTERR",
	SAR_DECRYPTPADERR: "SAR_DECRYPTPADERR", SAR_MACLENERR: "SAR_MACLENERR",
	SAR_BUFFER_TOO_SMALL: "SAR_BUFFER_TOO_SMALL", SAR_KEYINFOTYPEERR: "SAR_KEYINFOTYPEERR",
	SAR_NOT_EVENTERR: "SAR_NOT_EVENTERR", SAR_DEVICE_REMOVED: "SAR_DEVICE_REMOVED",
	SAR_PIN_INCORRECT: "SAR_PIN_INCORRECT", SAR_PIN_LOCKED: "SAR_PIN_LOCKED", SAR_PIN_INVALID: "SAR_PIN_INVALID",
	SAR_PIN_LEN_RANGE: "SAR_PIN_LEN_RANGE", SAR_USER_ALREADY_LOGGED_IN: "SAR_USER_ALREADY_LOGGED_IN",
	SAR_USER_PIN_NOT_INITIALIZED: "SAR_USER_PIN_NOT_INITIALIZED", SAR_USER_TYPE_INVALID: "SAR_USER_TYPE_INVALID",
	SAR_APPLICATION_NAME_INVALID: "SAR_APPLICATION_NAME_INVALID", SAR_APPLICATION_EXISTS: "SAR_APPLICATION_EXISTS",
	SAR_USER_NOT_LOGGED_IN: "SAR_USER_NOT_LOGGED_IN", SAR_APPLICATION_NOT_EXISTS: "SAR_APPLICATION_NOT_EXISTS",
	SAR_FILE_ALREADY_EXIST: "SAR_FILE_ALREADY_EXIST", SAR_NO_ROOM: "SAR_NO_ROOM",
	SAR_FILE_NOT_EXIST: "SAR_FILE_NOT_EXIST", SAR_REACH_MAX_CONTAINER_COUNT: "SAR_REACH_MAX_CONTAINER_COUNT",
}

// String returns the standard's name of the code (or its hex value for vendor codes).
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("0x%08X", uint32(c))
}

// Error is a call into the SKF library that returned something other than SAR_OK.
type Error struct {
	Func string // "SKF_VerifyPIN"
	Code Code
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (0x%08X)", e.Func, e.Code, uint32(e.Code))
}

// Is lets errors.Is match the typed sentinels below by code.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrDeviceRemoved:
		return e.Code == SAR_DEVICE_REMOVED
	case ErrNotSupported:
		return e.Code == SAR_NOTSUPPORTYETERR
	}
	return false
}

// CodeOf returns the SAR code wrapped in err (SAR_OK when err carries none).
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return SAR_OK
}

func check(fn string, rv uint32) error {
	if rv == 0 {
		return nil
	}
	return &Error{Func: fn, Code: Code(rv)}
}

var (
	// ErrNotBuiltIn is returned by every library operation of a binary built without cgo.
	ErrNotBuiltIn = errors.New("SKF (GM/T 0016) support is not built in (built with CGO_ENABLED=0)")
	// ErrDeviceRemoved matches SAR_DEVICE_REMOVED and the device vanishing during an operation.
	ErrDeviceRemoved = token.ErrTokenRemoved
	// ErrNotSupported matches SAR_NOTSUPPORTYETERR and functions the library does not export.
	ErrNotSupported = errors.New("the SKF library does not support this function")
	// ErrHung is wrapped by errors of library calls that did not return in time.
	ErrHung = errors.New("the SKF library did not answer in time")
	// ErrNotFound is wrapped when a URI names no device, application or container.
	ErrNotFound = token.ErrNotFound
)

// LibraryError names an SKF library that cannot be used and why.
type LibraryError struct {
	Path   string
	Reason string
	Err    error
}

func (e *LibraryError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("SKF library %s: %s: %v", e.Path, e.Reason, e.Err)
	}
	return fmt.Sprintf("SKF library %s: %s", e.Path, e.Reason)
}

func (e *LibraryError) Unwrap() error { return e.Err }
