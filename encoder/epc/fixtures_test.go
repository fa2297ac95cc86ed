package epc

// fixture is one EPC in all its forms. The GS1 schemes are the TDS 2.3
// Annex E examples (filter 3, 7-digit company prefix), with the printed
// errata corrected (E.3 SGTIN-96 serial, SGTIN-198 indicator digit, GIAI-202
// element string, GSRN-96 filter bits).
type fixture struct {
	desc   string
	hex    string
	scheme Scheme
	filter Filter
	tag    string // tag URI ("" for '+' schemes)
	pure   string // pure identity URI, or raw URI
	gs1    string // HRI
	dl     string // Digital Link on id.gs1.org
	cpLen  int
}

var fixtures = []fixture{
	{"sgtin-96 Annex E", "3074257BF7194E4000001A85", SGTIN96, 3,
		"urn:epc:tag:sgtin-96:3.0614141.812345.6789", "urn:epc:id:sgtin:0614141.812345.6789",
		"(01)80614141123458(21)6789", "https://id.gs1.org/01/80614141123458/21/6789", 7},
	{"sgtin-96 E.3 (erratum corrected)", "3066C4409047E140075BCD15", SGTIN96, 3,
		"urn:epc:tag:sgtin-96:3.95060001343.05.123456789", "urn:epc:id:sgtin:95060001343.05.123456789",
		"(01)09506000134352(21)123456789", "https://id.gs1.org/01/09506000134352/21/123456789", 11},
	{"sgtin-198", "3674257BF6B7A659B2C2BF1000000000000000000000000000", SGTIN198, 3,
		"urn:epc:tag:sgtin-198:3.0614141.712345.32a%2Fb", "urn:epc:id:sgtin:0614141.712345.32a%2Fb",
		"(01)70614141123451(21)32a/b", "https://id.gs1.org/01/70614141123451/21/32a%2Fb", 7},
	{"sscc-96", "3174257BF4499602D2000000", SSCC96, 3,
		"urn:epc:tag:sscc-96:3.0614141.1234567890", "urn:epc:id:sscc:0614141.1234567890",
		"(00)106141412345678908", "https://id.gs1.org/00/106141412345678908", 7},
	{"sgln-96", "3274257BF46072000000162E", SGLN96, 3,
		"urn:epc:tag:sgln-96:3.0614141.12345.5678", "urn:epc:id:sgln:0614141.12345.5678",
		"(414)0614141123452(254)5678", "https://id.gs1.org/414/0614141123452/254/5678", 7},
	{"sgln-195", "3974257BF46072CD9615F8800000000000000000000000000", SGLN195, 3,
		"urn:epc:tag:sgln-195:3.0614141.12345.32a%2Fb", "urn:epc:id:sgln:0614141.12345.32a%2Fb",
		"(414)0614141123452(254)32a/b", "https://id.gs1.org/414/0614141123452/254/32a%2Fb", 7},
	{"grai-96", "3374257BF40C0E400000162E", GRAI96, 3,
		"urn:epc:tag:grai-96:3.0614141.12345.5678", "urn:epc:id:grai:0614141.12345.5678",
		"(8003)006141411234525678", "https://id.gs1.org/8003/006141411234525678", 7},
	{"grai-170", "3774257BF40C0E59B2C2BF100000000000000000000", GRAI170, 3,
		"urn:epc:tag:grai-170:3.0614141.12345.32a%2Fb", "urn:epc:id:grai:0614141.12345.32a%2Fb",
		"(8003)0061414112345232a/b", "https://id.gs1.org/8003/0061414112345232a%2Fb", 7},
	{"giai-96", "3474257BF40000000000162E", GIAI96, 3,
		"urn:epc:tag:giai-96:3.0614141.5678", "urn:epc:id:giai:0614141.5678",
		"(8004)06141415678", "https://id.gs1.org/8004/06141415678", 7},
	{"giai-202", "3874257BF59B2C2BF1000000000000000000000000000000000", GIAI202, 3,
		"urn:epc:tag:giai-202:3.0614141.32a%2Fb", "urn:epc:id:giai:0614141.32a%2Fb",
		"(8004)061414132a/b", "https://id.gs1.org/8004/061414132a%2Fb", 7},
	{"gsrn-96", "2D74257BF4499602D2000000", GSRN96, 3,
		"urn:epc:tag:gsrn-96:3.0614141.1234567890", "urn:epc:id:gsrn:0614141.1234567890",
		"(8018)061414112345678902", "https://id.gs1.org/8018/061414112345678902", 7},
	{"gdti-96", "2C74257BF46072000000162E", GDTI96, 3,
		"urn:epc:tag:gdti-96:3.0614141.12345.5678", "urn:epc:id:gdti:0614141.12345.5678",
		"(253)06141411234525678", "https://id.gs1.org/253/06141411234525678", 7},
	{"sgtin+ E.3", "F73795211411234538566CB0AFC4", SGTINPlus, 3, "", "",
		"(01)79521141123453(21)32a/b", "https://id.gs1.org/01/79521141123453/21/32a%2Fb", 0},
	{"raw, factory tag", "E2801160600002084F4A4A11", SchemeRaw, 0,
		"urn:epc:raw:96.xE2801160600002084F4A4A11", "urn:epc:raw:96.xE2801160600002084F4A4A11", "", "", 0},
}
