package gs1

// Charset is the character set of an AI component.
type Charset uint8

// Character sets of the dictionary.
const (
	CharsetN Charset = iota + 1 // digits 0-9
	CharsetX                    // GS1 AI encodable character set 82
	CharsetY                    // GS1 AI encodable character set 39
	CharsetZ                    // GS1 AI encodable character set 64 (base64url)
)

func (c Charset) String() string {
	switch c {
	case CharsetN:
		return "N"
	case CharsetX:
		return "CSET 82"
	case CharsetY:
		return "CSET 39"
	case CharsetZ:
		return "CSET 64"
	}
	return "unknown charset"
}

// Linter names a content check of the dictionary ("csum", "yymmd0", ...).
type Linter uint8

func (l Linter) String() string {
	if int(l) < len(linterNames) {
		return linterNames[l]
	}
	return "unknown linter"
}

// Component is one part of an AI's data field. Components are applied in
// order, each consuming its length; only the last may vary in length, and
// optional components may be left out once the data is used up.
type Component struct {
	Charset  Charset
	Min, Max int
	Optional bool
	Linters  []Linter
}

// Requirement is one req= rule: at least one of the groups must be present,
// and a group is present when every AI pattern in it is. Patterns may use
// 'n' for any digit ("31nn").
type Requirement [][]string

// AI is one entry of the generated table.
type AI struct {
	Code  string
	Title string
	// Predefined is the dictionary's '*' flag: the AI's data has a
	// predefined length and needs no FNC1 separator after it.
	Predefined bool
	// DLAttribute is the '?' flag: allowed as a Digital Link data attribute
	// (query parameter).
	DLAttribute bool
	Components  []Component
	Req         []Requirement
	// Ex lists AI patterns that must not appear with this AI.
	Ex []string
	// DLPrimaryKey: the AI can be a Digital Link primary key.
	DLPrimaryKey bool
	// DLQualifiers are the alternative ordered sequences of key qualifiers
	// a primary key accepts in the URI path.
	DLQualifiers [][]string
}

// MinLen and MaxLen are the bounds of the whole value's length.
func (a *AI) MinLen() int {
	n := 0
	for _, c := range a.Components {
		if !c.Optional {
			n += c.Min
		}
	}
	return n
}

// MaxLen is the longest value the AI accepts.
func (a *AI) MaxLen() int {
	n := 0
	for _, c := range a.Components {
		n += c.Max
	}
	return n
}

// FixedLen is the value length of an AI with a single fixed length, or 0.
func (a *AI) FixedLen() int {
	if mn, mx := a.MinLen(), a.MaxLen(); mn == mx {
		return mn
	}
	return 0
}

// IsDLQualifier reports whether the AI is a key qualifier of some primary key.
func (a *AI) IsDLQualifier() bool { return isQualifier[a.index()] }

func (a *AI) index() int {
	return int(lookupIndex(a.Code)) - 1
}

// Index arrays by AI length: value is 1 + position in table, 0 for none.
var (
	idx2 [100]uint16
	idx3 [1000]uint16
	idx4 [10000]uint16

	fixedLen    [len(table)]int  // predefined value length, 0 if variable
	isQualifier [len(table)]bool // appears in some dlpkey= list
)

func init() {
	for i := range table {
		a := &table[i]
		n := 0
		for j := 0; j < len(a.Code); j++ {
			n = n*10 + int(a.Code[j]-'0')
		}
		switch len(a.Code) {
		case 2:
			idx2[n] = uint16(i + 1)
		case 3:
			idx3[n] = uint16(i + 1)
		case 4:
			idx4[n] = uint16(i + 1)
		}
		fixedLen[i] = a.FixedLen()
	}
	for i := range table {
		for _, seq := range table[i].DLQualifiers {
			for _, q := range seq {
				if k := lookupIndex(q); k > 0 {
					isQualifier[k-1] = true
				}
			}
		}
	}
}

// lookupIndex returns 1 + the table position of the AI, or 0.
func lookupIndex(ai string) uint16 {
	n := 0
	for i := 0; i < len(ai); i++ {
		c := ai[i]
		if c < '0' || c > '9' {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	switch len(ai) {
	case 2:
		return idx2[n]
	case 3:
		return idx3[n]
	case 4:
		return idx4[n]
	}
	return 0
}

// Lookup returns the table entry of an AI ("01", "3103", ...).
func Lookup(ai string) (*AI, bool) {
	if k := lookupIndex(ai); k > 0 {
		return &table[k-1], true
	}
	return nil, false
}

// AIs returns every AI of the table in ascending order. The entries are
// shared; do not modify them.
func AIs() []*AI {
	out := make([]*AI, len(table))
	for i := range table {
		out[i] = &table[i]
	}
	return out
}

// matchAt finds the AI at the start of s (2, 3 or 4 digits).
func matchAt(s string) (*AI, int) {
	for l := 2; l <= 4 && l <= len(s); l++ {
		if k := lookupIndex(s[:l]); k > 0 {
			return &table[k-1], l
		}
	}
	return nil, 0
}

// patternMatch reports whether ai matches a dictionary pattern where 'n'
// stands for any digit.
func patternMatch(pat, ai string) bool {
	if len(pat) != len(ai) {
		return false
	}
	for i := 0; i < len(pat); i++ {
		if pat[i] != ai[i] && pat[i] != 'n' {
			return false
		}
	}
	return true
}
