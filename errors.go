// Package vigil holds Vigil's domain: the types a postmarket cybersecurity program is made of (organizations,
// devices, versions, components, vulnerabilities, findings, determinations, audit events), the service interfaces
// the adapters implement, and the few error codes every layer speaks. It imports only the standard library so that
// the rules of the program can be read, tested and reused without a database or a web server in sight.
package vigil

import (
	"errors"
	"fmt"
)

// Error codes. They are few on purpose: each maps to one HTTP status (internal/web) and one exit code (internal/cli).
const (
	ECONFLICT     = "ECONFLICT"     // the object already exists or was changed concurrently
	EFORBIDDEN    = "EFORBIDDEN"    // the actor may not do this
	EINTERNAL     = "EINTERNAL"     // a bug or an unexpected failure; details are logged, never shown
	EINVALID      = "EINVALID"      // the input is malformed; the message names the field
	ENOTFOUND     = "ENOTFOUND"     // the object does not exist
	EUNAUTHORIZED = "EUNAUTHORIZED" // no valid credentials were presented
	// EUNAVAILABLE: something the operator can act on stopped the request (the database's disk is full or its
	// write lock busy, a feed host does not answer); the message says what, without internals, and a retry once
	// it is fixed succeeds.
	EUNAVAILABLE = "EUNAVAILABLE"
)

// Error is an application error: a code from the list above and a message fit to show a user.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return e.Message
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for any other error, "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err: the whole chain's text (so context added with %w, such as
// the file and field, is kept) when it carries an *Error, else a generic text so that no internal detail (a SQL
// statement, a server path) reaches a user.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) && e.Code != EINTERNAL {
		return err.Error()
	}
	return "internal error"
}
