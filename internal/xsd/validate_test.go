package xsd

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

const pumpXSD = `<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:pump" xmlns="urn:pump" elementFormDefault="qualified">
  <xs:simpleType name="rate">
    <xs:restriction base="xs:decimal"><xs:minInclusive value="0"/><xs:maxInclusive value="999"/></xs:restriction>
  </xs:simpleType>
  <xs:element name="pump">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="model" type="xs:string"/>
        <xs:element name="rate" type="rate" minOccurs="0" maxOccurs="unbounded"/>
      </xs:sequence>
      <xs:attribute name="serial" type="xs:string" use="required"/>
    </xs:complexType>
  </xs:element>
</xs:schema>`

// validate runs doc through a Validator the way a caller drives it from an encoding/xml decoder.
func validate(t *testing.T, s *Schema, doc string) error {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	v := NewValidator(s)
	for {
		line, _ := d.InputPos()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			t.Fatalf("decode: %v", err)
		}
		switch tt := tok.(type) {
		case xml.StartElement:
			err = v.Start(tt, line)
		case xml.EndElement:
			err = v.End()
		case xml.CharData:
			v.Text(tt)
		}
		if err != nil {
			return err
		}
	}
}

func TestValidator(t *testing.T) {
	s, err := Compile("pump.xsd", []byte(pumpXSD), nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, doc string
		want      string // "" valid; else the Error's text
	}{
		{"valid", `<pump xmlns="urn:pump" serial="1"><model>A</model><rate>1.5</rate><rate>2</rate></pump>`, ""},
		{"required attribute", `<pump xmlns="urn:pump"><model>A</model></pump>`, `pump/@serial: line 1: required attribute "serial" is missing`},
		{"facet", "<pump xmlns=\"urn:pump\" serial=\"1\">\n<model>A</model>\n<rate>1000</rate></pump>", `pump/rate[1]: line 3: value 1000 is above the maximum 999`},
		{"order", `<pump xmlns="urn:pump" serial="1"><rate>1</rate><model>A</model></pump>`, `pump/rate: line 1: element <rate> is not allowed here in <pump> (expected <model>)`},
		{"missing child", `<pump xmlns="urn:pump" serial="1"></pump>`, `pump/model: line 1: required element <model> is missing`},
		{"undeclared root", `<valve xmlns="urn:pump"/>`, `valve: line 1: element <valve> is not declared`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validate(t, s, tt.doc)
			got := ""
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("error %T %v is not an *Error", err, err)
				}
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestCompileRefusesWhatItDoesNotImplement(t *testing.T) {
	doc := strings.Replace(pumpXSD, `<xs:element name="pump">`, `<xs:notation name="n" public="p"/><xs:element name="pump">`, 1)
	if _, err := Compile("pump.xsd", []byte(doc), nil); err == nil || !strings.Contains(err.Error(), "notation") {
		t.Errorf("Compile = %v, want an error naming xs:notation", err)
	}
}
