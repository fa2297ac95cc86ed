package epc

import "strings"

// The hostname of the TDS 2.3 '++' schemes (§14.5.16): after the EPC, a
// 1-bit encoding indicator, a 6-bit length and either URN Code 40 triples
// or 7-bit units, some of which stand for frequent parts of hostnames
// ("id.", ".com", ".co.uk" …, optimisation tables A and B1–B4).

// maxHostname bounds a decoded hostname: 63 units, none longer than 7
// characters.
const maxHostname = 63 * 7

// hostSeqA are the 7-bit units of optimisation table A that stand for more
// than one character.
var hostSeqA = map[byte]string{
	0x1E: "qr.", 0x1F: "www.", 0x20: "id.",
	0x5B: ".com", 0x5C: ".org", 0x5D: ".net", 0x5E: ".int", 0x60: ".edu",
	0x7B: ".gov", 0x7C: ".mil", 0x7D: ".biz", 0x7E: ".eco", 0x7F: ".med",
}

// hostSeqB are optimisation tables B1–B4: 14-bit units whose first 7 bits
// are 0–3. B3's .org.cn and .net.cn are placed in B3 (0000010), as its
// caption says, where TDS 2.3 prints them with B1's 0000000.
var hostSeqB = [4][]string{
	strings.Fields(`.ac .ad .ae .af .ag .ai .al .am .ao .aq .ar .as .at .au .aw .ax .az .ba .bb .bd .be .bf .bg .bh .bi .bj .bm .bn .bo .bq .br .bs
		.bt .bw .by .bz .ca .cc .cd .cf .cg .ch .ci .ck .cl .cm .cn .co .cr .cu .cv .cw .cx .cy .cz .de .dj .dk .dm .do .dz .ec .ee .eg
		.eh .er .es .et .eu .fi .fj .fk .fm .fo .fr .ga .gd .ge .gf .gg .gh .gi .gl .gm .gn .gp .gq .gr .gs .gt .gu .gw .gy .hk .hm .hn
		.hr .ht .hu .id .ie .il .im .in .io .iq .ir .is .it .je .jm .jo .jp .ke .kg .kh .ki .km .kn .kp .kr .kw .ky .kz .la .lb .lc .li`),
	strings.Fields(`.lk .lr .ls .lt .lu .lv .ly .ma .mc .md .me .mg .mh .mk .ml .mm .mn .mo .mp .mq .mr .ms .mt .mu .mv .mw .mx .my .mz .na .nc .ne
		.nf .ng .ni .nl .no .np .nr .nu .nz .om .pa .pe .pf .pg .ph .pk .pl .pm .pn .pr .ps .pt .pw .py .qa .re .ro .rs .ru .rw .sa .sb
		.sc .sd .se .sg .sh .si .sk .sl .sm .sn .sr .ss .st .su .sv .sx .sy .sz .tc .td .tf .tg .th .tj .tk .tl .tm .tn .to .tr .tt .tv
		.tw .tz .ua .ug .us .uy .uz .va .vc .ve .vg .vi .vn .vu .wf .ws .ye .yt .za .zm .zw`),
	strings.Fields(`.com.au .net.au .org.au .co.at .com.bd .co.bd .com.br .net.br .co.nz .com.ng .com.pk .co.in .com.in .co.il .co.jp .co.za
		.co.kr .com.es .com.lk .co.th .co.tt .com.tt .com.tr .biz.tr .com.ua .co.uk .co.zm .com.zm .com.cn .org.cn .net.cn .gov.cn`),
	{".tech"},
}

// hostChar reports whether c may appear in a hostname (with a port).
func hostChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == ':' || c == '_'
}

// readHostname decodes the hostname at bit off into dst and returns its
// length and the bit offset after it.
func (e *EPC) readHostname(s Scheme, off, have int, dst []byte) (int, int, error) {
	bad := func(rule string) error { return newErr(s, "hostname", string(dst[:0]), ErrCharset, rule) }
	if off+7 > have {
		return 0, 0, newErr(s, "hostname", "", ErrLength, "the bits end before its length indicator")
	}
	code40 := e.get(off, 1) == 0
	n := int(e.get(off+1, 6))
	off += 7
	if n == 0 {
		return 0, 0, newErr(s, "hostname", "", ErrRange, "is empty")
	}
	k := 0
	if code40 {
		if off+16*((n+2)/3) > have {
			return 0, 0, newErr(s, "hostname", "", ErrLength, "the bits end inside it")
		}
		for t := 0; t < (n+2)/3; t++ {
			v := e.get(off, 16)
			off += 16
			if v == 0 || v > 64000 {
				return 0, 0, bad("URN Code 40 triple " + itoa(v) + " is out of range 1–64000")
			}
			v--
			for _, c := range [3]byte{alphaCode40[v/1600], alphaCode40[v/40%40], alphaCode40[v%40]} {
				switch {
				case k < n && c == ' ':
					return 0, 0, bad("URN Code 40 space inside the hostname")
				case k < n:
					dst[k] = c
				case c != ' ':
					return 0, 0, newErr(s, "hostname", string(dst[:k]), ErrPadding, "URN Code 40 padding after the hostname must be spaces")
				}
				k++
			}
		}
		return n, off, nil
	}
	for i := 0; i < n; i++ {
		if off+7 > have {
			return 0, 0, newErr(s, "hostname", string(dst[:k]), ErrLength, "the bits end inside it")
		}
		u := byte(e.get(off, 7))
		off += 7
		var part string
		switch {
		case u <= 3:
			i++ // a 14-bit unit counts two
			if i >= n || off+7 > have {
				return 0, 0, newErr(s, "hostname", string(dst[:k]), ErrLength, "a 14-bit unit is cut short")
			}
			x := int(e.get(off, 7))
			off += 7
			if x >= len(hostSeqB[u]) {
				return 0, 0, newErr(s, "hostname", string(dst[:k]), ErrCharset, "14-bit unit "+itoa(uint64(u)<<7|uint64(x))+" is reserved")
			}
			part = hostSeqB[u][x]
		case hostSeqA[u] != "":
			part = hostSeqA[u]
		case hostChar(u):
			dst[k] = u
			k++
			continue
		default:
			return 0, 0, newErr(s, "hostname", string(dst[:k]), ErrCharset, "7-bit unit 0x"+string([]byte{hexDigits[u>>4], hexDigits[u&15]})+" is not a hostname character")
		}
		k += copy(dst[k:], part)
	}
	return k, off, nil
}

// Hostname returns the Digital Link hostname of a '++' scheme; "" for the
// other schemes.
func (e EPC) Hostname() string {
	if !e.scheme.PlusPlus() {
		return ""
	}
	var buf [maxHostname]byte
	n, _, err := e.readHostname(e.scheme, int(e.hostAt), int(e.nbits), buf[:])
	if err != nil {
		return "" // cannot happen: Decode checked it
	}
	return string(buf[:n])
}

// WithHostname returns e in the '++' form of its '+' scheme, carrying the
// hostname of its GS1 Digital Link URI (example.com, not https://); an
// empty hostname returns the '+' form. Its +AIDC data is kept.
func (e EPC) WithHostname(hostname string) (EPC, error) {
	if !e.scheme.Plus() {
		return EPC{}, newErr(e.scheme, "scheme", e.scheme.String(), ErrScheme, "only the '+' schemes have a '++' form that carries a hostname")
	}
	in := e.plusInput()
	in.aidc = e.AIDCElements()
	in.host, in.hostname = nil, hostname
	in.s = e.scheme.base()
	if hostname != "" {
		in.s = in.s.plusPlus()
	}
	return encodePlus(in)
}

// putHostname writes the hostname of a '++' scheme: the bits of in.host
// when given, else in.hostname in the encoding that takes fewer bits.
func putHostname(w *writer, in plusIn) error {
	s := in.s
	if in.host != nil {
		end := in.host.hostEnd()
		for off := in.hostFrom; off < end; off += 32 {
			n := min(32, end-off)
			w.put(in.host.get(off, n), n)
		}
		return nil
	}
	h := in.hostname
	if h == "" {
		return newErr(s, "hostname", "", ErrRange, s.String()+" carries the hostname of its Digital Link URI: give one (example.com)")
	}
	for i := 0; i < len(h); i++ {
		if !hostChar(h[i]) {
			return newErr(s, "hostname", h, ErrCharset, "character "+quoteChar(h, i)+" cannot appear in a hostname; give the host alone, without https:// or a path")
		}
	}
	// 7-bit units, taking at each position the longest optimised sequence.
	var units []uint16 // values below 128 are 7-bit units, others 14-bit
	for i := 0; i < len(h); {
		best, bestLen := -1, 1
		for u, p := range hostSeqA {
			if len(p) > bestLen && strings.HasPrefix(h[i:], p) {
				best, bestLen = int(u), len(p)
			}
		}
		for t, list := range hostSeqB {
			for x, p := range list {
				if len(p) > bestLen && strings.HasPrefix(h[i:], p) {
					best, bestLen = 1<<14|t<<7|x, len(p)
				}
			}
		}
		if best < 0 {
			best = int(h[i])
		}
		units = append(units, uint16(best))
		i += bestLen
	}
	n7 := 0
	for _, u := range units {
		n7++
		if u >= 1<<14 {
			n7++
		}
	}
	code40 := allIn(h, alphaCode40[1:])
	if code40 && len(h) <= 63 && 16*((len(h)+2)/3) <= 7*n7 {
		w.put(0, 1)
		w.put(uint64(len(h)), 6)
		for i := 0; i < len(h); i += 3 {
			var t [3]uint64
			for j := 0; j < 3 && i+j < len(h); j++ {
				t[j] = uint64(indexByte(alphaCode40, h[i+j]))
			}
			w.put(1600*t[0]+40*t[1]+t[2]+1, 16)
		}
		return nil
	}
	if n7 > 63 {
		return newErr(s, "hostname", h, ErrRange, "is too long: it takes more than 63 units of 7 bits")
	}
	w.put(1, 1)
	w.put(uint64(n7), 6)
	for _, u := range units {
		if u >= 1<<14 {
			w.put(uint64(u&(1<<14-1)), 14)
		} else {
			w.put(uint64(u), 7)
		}
	}
	return nil
}

// hostEnd returns the bit offset after the hostname of a '++' EPC.
func (e *EPC) hostEnd() int {
	var buf [maxHostname]byte
	_, end, _ := e.readHostname(e.scheme, int(e.hostAt), int(e.nbits), buf[:])
	return end
}
