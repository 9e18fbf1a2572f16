package jerr

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestErrorString(t *testing.T) {
	e := Wrap(Decode, io.ErrUnexpectedEOF, "bad record %d", 3).WithPath("f.avro").At(2, 7, 100)
	if got := e.Error(); got != "bad record 3: unexpected EOF (path f.avro, block 2, record 7, offset 100)" {
		t.Errorf("Error() = %q", got)
	}
	if got := New(Config, "plain").Error(); got != "plain" {
		t.Errorf("without location: %q", got)
	}
	if !errors.Is(e, io.ErrUnexpectedEOF) {
		t.Error("Unwrap does not reach the cause")
	}
}

func TestAsAndKindOf(t *testing.T) {
	e := New(Schema, "x")
	wrapped := fmt.Errorf("context: %w", e)
	if As(wrapped) != e || KindOf(wrapped) != Schema {
		t.Error("As/KindOf do not find a wrapped *Error")
	}
	plain := errors.New("boom")
	if got := As(plain); got.Kind != Internal || !errors.Is(got, plain) {
		t.Errorf("As(plain) = %+v", got)
	}
	if As(nil) != nil || KindOf(nil) != "" || KindOf(plain) != "" {
		t.Error("nil / unkinded errors")
	}
}

func TestVariantName(t *testing.T) {
	for _, tc := range []struct {
		err  *Error
		want string
	}{
		{New(Parse, "x").WithVariant(InvalidMagic), InvalidMagic},
		{New(Parse, "x"), "Parse"},
		{New(NotFound, "x"), "NotFound"},
		{New(Auth, "x"), "AuthenticationFailed"},
		{New(Decode, "x"), InvalidData},
		{New(Kind("NewKind"), "x"), "NewKind"},
	} {
		if got := tc.err.VariantName(); got != tc.want {
			t.Errorf("%s: VariantName() = %q, want %q", tc.err.Kind, got, tc.want)
		}
	}
}
