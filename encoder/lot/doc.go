// Package lot makes, checks and reads lot codes (the batch/lot number a label
// carries in GS1 AI (10)).
//
// A Format is a template of literals and tokens:
//
//	date tokens   {YY} {YYYY} {MM} {DD} {YYMM} {YYMMDD} {JJJ} (day of year) {WW} (ISO week)
//	code tokens   {BRAND} {SITE} {GATEWAY} {DOOR} {LINE} {PRODUCT} {SUPPLIER}
//	sequence      {SEQ:n}  n zero-padded digits, 1 … 10^n−1, reset per SeqScope
//	check         {CHECK}  one ISO/IEC 7064 MOD 37,36 check character, last in the format
//
// "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}" gives 2505-LWX-WLD01-001, then
// 2505-LWX-WLD01-002 for May's second lot; June starts again at 001.
//
// Every format is checked when it is compiled: the longest code it can produce
// (code tokens at their maximum length, see Config.MaxLen) must fit the 20
// characters of AI (10), every literal must be in GS1 CSET 82, and codes must be
// readable back (at most one code token between two literals, since code
// tokens have variable length). Literals '_' and '>' are allowed but reported
// as warnings: they are escape characters inside ZPL fields.
//
// Values given at issue time are checked against their token's maximum length
// and CSET 82, and may not contain a character the format uses as a literal
// (it would make the code ambiguous to read back).
//
// Decode reads a code back into its fields with its format.
//
// The package is pure: no I/O, no goroutines, no clock reads; the date of a
// code is always passed in. Issuing codes durably (sequences that survive a
// restart, the lot registry) is edge/lots.
package lot
