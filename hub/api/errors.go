package api

import (
	"fmt"
	"net/http"
)

// Stable error codes. Every refusal of the hub is {"error": {"code": ..., "message": ...}}
// with one of these codes; clients branch on the code, people read the message.
const (
	CodeUnauthenticated   = "unauthenticated"        // 401: no or unknown credential
	CodeForbidden         = "forbidden"              // 403: the credential may not do this
	CodeAdminRequired     = "admin_required"         // 403: an admin action by a non-admin
	CodeNotFound          = "not_found"              // 404: no such seal, record, organisation or route
	CodeMethodNotAllowed  = "method_not_allowed"     // 405
	CodeMalformed         = "malformed_request"      // 400: body is not the JSON the endpoint takes
	CodeInvalidField      = "invalid_field"          // 400 / 422: a field's value is not acceptable
	CodeInvalidUSCC       = "invalid_uscc"           // 422: unified social credit code is wrong
	CodeTooLarge          = "request_too_large"      // 413
	CodeUnsupportedType   = "unsupported_media_type" // 415
	CodeConflict          = "conflict"               // 409: same record id, different body
	CodeAlreadyExists     = "already_exists"         // 409: seal or organisation filed already
	CodeInvalidTransition = "invalid_transition"     // 409: e.g. reactivating a revoked seal
	CodeRateLimited       = "rate_limited"           // 429
	CodeTimeout           = "timeout"                // 503: the request took too long
	CodeInternal          = "internal"               // 500
	CodeSealNotFiled      = "seal_not_filed"         // record/verify: seal unknown to the hub
)

// ErrorBody is the inner object of an error response (and of per-record failures).
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ErrorResponse is the body of every non-2xx answer.
type ErrorResponse struct {
	Error ErrorBody `json:"error"`
}

// Errf makes an ErrorBody.
func Errf(code, format string, args ...any) *ErrorBody {
	return &ErrorBody{Code: code, Message: fmt.Sprintf(format, args...)}
}

func (e *ErrorBody) Error() string { return e.Code + ": " + e.Message }

// Error is an error answer of the hub as the client sees it.
type Error struct {
	HTTPStatus int
	ErrorBody
}

func (e *Error) Error() string {
	return fmt.Sprintf("hub refused (%d %s): %s", e.HTTPStatus, e.Code, e.Message)
}

// StatusFor maps an error code to its HTTP status.
func StatusFor(code string) int {
	switch code {
	case CodeUnauthenticated:
		return http.StatusUnauthorized
	case CodeForbidden, CodeAdminRequired, CodeRoleNotAllowed, CodeOwnOrg:
		return http.StatusForbidden
	case CodeNotFound:
		return http.StatusNotFound
	case CodeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case CodeMalformed:
		return http.StatusBadRequest
	case CodeInvalidField, CodeInvalidUSCC, CodeSealNotFiled, CodeUnknownType:
		return http.StatusUnprocessableEntity
	case CodeTooLarge:
		return http.StatusRequestEntityTooLarge
	case CodeUnsupportedType:
		return http.StatusUnsupportedMediaType
	case CodeConflict, CodeAlreadyExists, CodeInvalidTransition, CodeNotApproved:
		return http.StatusConflict
	case CodeRateLimited:
		return http.StatusTooManyRequests
	case CodeTimeout, CodeNotConfigured:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
