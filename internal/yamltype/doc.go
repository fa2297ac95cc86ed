// Package yamltype checks a YAML document against the Go type it is decoded
// into and says what is wrong in the words of the person who wrote it:
// the key's path and what it takes.
//
//	line 3: outbox.max_bytes: want a number of bytes, got "big"
//	line 7: unknown key "adress" in printers[0]; known keys: address, door, id, …
//	line 9: mqtt.keepalive: 20 has no unit: write a duration with its unit, e.g. 20s
//
// where the YAML decoder says `cannot unmarshal !!str `big` into int64` or
// `field adress not found in type printers.Config`. Keys are the yaml tags
// of struct fields (inline structs included); fields without a tag are not
// keys. The configuration (edge/config) and label templates
// (encoder/label) report their files' problems with it.
package yamltype
