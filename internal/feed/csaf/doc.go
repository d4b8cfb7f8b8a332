// Package csaf reads OASIS CSAF 2.0 documents (CISA ICSA/ICSMA advisories, vendor advisories, CSAF VEX) into
// Vigil's domain: Parse flattens the product tree into vigil.Products and turns every vulnerability into one
// vigil.Advisory with its products, statuses, scores and remediations; Validate checks a document against the
// embedded CSAF 2.0 JSON schema and the OASIS mandatory tests (section 6.1) and says which ones it fails. Both read
// untrusted bytes, so every input is bounded (size, nesting, string length, counts) and errors name the document
// and the JSON path of the offending field.
package csaf
