package vigil_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/vigil-dev/vigil"
)

func TestOpError(t *testing.T) {
	inner := vigil.Errorf(vigil.ENOTFOUND, "device 42 not found")
	err := error(inner)
	vigil.Wrap(&err, "store.Device", 42)
	outer := fmt.Errorf("read: %w", err)
	var e *vigil.Error
	switch {
	case err.Error() != "store.Device 42: device 42 not found":
		t.Errorf("Error = %q", err.Error())
	case !errors.Is(outer, inner) || !errors.As(outer, &e) || vigil.ErrorCode(outer) != vigil.ENOTFOUND:
		t.Errorf("the code is lost through the wrap: %v", outer)
	case vigil.ErrorMessage(outer) != "read: device 42 not found":
		t.Errorf("ErrorMessage = %q, want the operation left out", vigil.ErrorMessage(outer))
	}
	var none error
	vigil.Wrap(&none, "store.Device", 42)
	if none != nil {
		t.Errorf("Wrap made an error of nil: %v", none)
	}
	internal := errors.New("SELECT failed")
	vigil.Wrap(&internal, "store.Devices", nil)
	if internal.Error() != "store.Devices: SELECT failed" || vigil.ErrorMessage(internal) != "internal error" {
		t.Errorf("no key: %q, message %q", internal.Error(), vigil.ErrorMessage(internal))
	}
}
