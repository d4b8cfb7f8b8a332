// Package risk turns what is known about a vulnerability into the inputs of the FDA's controlled/uncontrolled
// determination (G2016 §VI): CVSS v2.0, v3.0, v3.1 and v4.0 scores from vectors, the medical-device rubric that
// turns device-specific answers into an explainable CVSS v3.0 vector, the exploitability level derived from the
// assessed vector, KEV and EPSS (with an assessor override that must state its reason), the SSVC supplier decision
// used as the patch-priority aid (524B's regular cycle versus out of cycle), and the per-device risk acceptance
// matrix that maps exploitability × severity of patient harm to controlled or uncontrolled. It is a pure engine: no
// I/O, no clock, no store, so that the same answers always produce the same, recorded result.
package risk
