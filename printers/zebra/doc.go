// Package zebra reads Zebra printer status: the three-string ~HS host status
// and the ~HQES extended status, parsed from a byte stream that may arrive in
// any chunks (Reader), and queried over a printers.Conn (Querier).
//
// ~HS answers with three frames, each STX … ETX CR LF:
//
//	string 1  aaa,b,c,dddd,eee,f,g,h,iii,j,k,l
//	string 2  mmm,n,o,p,q,r,s,t,uuuuuuuu,v,www
//	string 3  xxxx,y
//
// ~HQES answers with one frame holding "PRINTER STATUS", an "ERRORS:" line
// and a "WARNINGS:" line, each "flag group2 group1" with two 8-digit hex
// groups; nibble 1 is the low nibble of group 1.
//
// ~HQOD answers with one frame of print length counters ("PRINT METERS",
// "TOTAL NONRESETTABLE: n \"" …). Other replies come unframed on the same
// stream and Reader finds them between the frames: an SGD getvar's quoted
// value ("?" for an unknown setting), a ~RV report per RFID format
// ("_+,N_" written, "_-,N_" failed, N labels voided), a ^HV reply between
// the header and terminator the gateway gives it (VerifyHeader), and a ^HR
// calibration table between the gateway's start and end strings.
//
// A printer may stay silent to ~HS while media is out, the ribbon is out or
// the head is open; ~HQES answers during faults. Querier sends both in one
// write and merges what comes back; a query nothing answered is an unknown
// status (printers.ErrStatusTimeout), never "ok". It reads SGD settings
// (Getvar) and the odometer the same way; replies still owed to a query
// that timed out are skipped (they come in order and name nothing), and
// the replies a printer makes as it prints go to OnAsync.
package zebra
