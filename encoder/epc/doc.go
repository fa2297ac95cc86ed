// Package epc is the EPC Tag Data Standard (GS1 TDS 2.x) codec: it turns the
// bits a tag's EPC bank holds into GS1 keys and back.
//
// An EPC is one value of type [EPC], whatever its form:
//
//   - binary: the bits of the EPC bank, as bytes ([Decode], [EPC.Bytes]) or
//     hexadecimal ([DecodeHex], [EPC.Hex]);
//   - EPC tag URI: urn:epc:tag:sgtin-96:3.0614141.812345.6789, which carries
//     the binary scheme and the filter value ([EPC.TagURI], [ParseURI]);
//   - pure identity URI: urn:epc:id:sgtin:0614141.812345.6789, the identity
//     alone ([EPC.PureURI], [ParsePureURI]);
//   - GS1 element string, (01)80614141123458(21)6789 ([EPC.GS1],
//     [EPC.GS1Message], [ParseGS1]), and GS1 Digital Link URI
//     ([EPC.DigitalLink]), through encoder/gs1;
//   - EPC class URI of a GTIN with a lot, urn:epc:class:lgtin:… ([EPC.LGTINClass]).
//
// A binary scheme is named by the header, the first 8 bits: SGTIN-96,
// SGTIN-198, SSCC-96, SGLN-96/195, GRAI-96/170, GIAI-96/202, GDTI-96 and
// GSRN-96 split the GS1 key at the company prefix, whose length a partition
// value records. The TDS 2.0 '+' schemes SGTIN+, DSGTIN+ (with a date and
// its type), SSCC+, SGLN+, GRAI+, GIAI+, GSRN+ and GDTI+ store the key's
// digits directly, may be followed by further AIs (+AIDC data: a lot, an
// expiry date …, [EPC.AIDCElements], [EPC.WithAIDC]) and have no tag URI:
// their canonical text form is a GS1 Digital Link URI. Their TDS 2.3 '++'
// forms also carry that URI's hostname ([EPC.Hostname],
// [EPC.WithHostname]). Any other header is a raw EPC,
// urn:epc:raw:96.xE280…, never guessed into a GS1 key.
//
// The filter value (3 bits) tells a portal what kind of thing carries the
// tag: 1 point-of-sale item, 2 full case, 6 unit load (pallet) and so on.
//
// The length of the GS1 company prefix cannot be derived from a GTIN or an
// SSCC: encoding takes it as an argument, or from a [CompanyPrefixTable].
//
// Every rule broken gives an [*Error] naming the scheme, the field and the
// rule, which unwraps to one of the sentinel errors (ErrSerial, ErrFilter …).
//
// EPC holds no pointers: decoding a 96-bit scheme allocates nothing, and two
// EPC values compare equal with == exactly when their bits are equal. The
// package does no I/O; the per-GTIN serial allocator is edge/serials.
package epc
