// Package vigil holds Vigil's domain: the types a postmarket cybersecurity program is made of (organizations,
// devices, versions, components, vulnerabilities, findings, determinations, audit events), the service interfaces
// the adapters implement, and the few error codes every layer speaks. It imports only the standard library so that
// the rules of the program can be read, tested and reused without a database or a web server in sight.
package vigil

import (
	"errors"
	"fmt"
	"strings"
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
// statement, a server path) reaches a user. The operation names OpErrors add are for logs and left out.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) && e.Code != EINTERNAL {
		msg := err.Error()
		for x := err; x != nil; x = errors.Unwrap(x) {
			if op, ok := x.(*OpError); ok {
				msg = strings.Replace(msg, op.prefix(), "", 1)
			}
		}
		return msg
	}
	return "internal error"
}

// OpError names the operation an error happened in and the key of the object it was about, so that a logged
// failure says which call failed ("store.Device 42: ..."). errors.Is, errors.As and ErrorCode see through it.
type OpError struct {
	Op  string // e.g. store.Device
	Key string // the object's id or name; empty when the operation has none
	Err error
}

func (e *OpError) prefix() string {
	if e.Key == "" {
		return e.Op + ": "
	}
	return e.Op + " " + e.Key + ": "
}

func (e *OpError) Error() string { return e.prefix() + e.Err.Error() }

func (e *OpError) Unwrap() error { return e.Err }

// Wrap makes a non-nil *errp an *OpError naming op and key (printed with %v; nil for none). It is meant to be
// deferred at the top of a method with a named error result: defer vigil.Wrap(&err, "store.Device", id).
func Wrap(errp *error, op string, key any) {
	if *errp == nil {
		return
	}
	k := ""
	if key != nil {
		k = fmt.Sprint(key)
	}
	*errp = &OpError{Op: op, Key: k, Err: *errp}
}
