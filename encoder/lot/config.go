package lot

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Config is the lots section of the gateway configuration:
//
//	lots:
//	  default_format: std
//	  max_len: {PRODUCT: 6, SUPPLIER: 6}
//	  formats:
//	    std:
//	      format: "{YYMM}-{BRAND}-{PRODUCT}-{SEQ:3}"
//	      seq_scope: month      # day | month | year | never
//	      seq_per: product      # product | global
//	      shared: false
//	      brand: LWX
type Config struct {
	// Formats are the named lot-code formats.
	Formats map[string]FormatConfig `yaml:"formats,omitempty" json:"formats,omitempty"`
	// DefaultFormat names the format used when an issuer names none.
	DefaultFormat string `yaml:"default_format,omitempty" json:"default_format,omitempty"`
	// MaxLen gives the maximum length of code token values (keys BRAND,
	// SITE, GATEWAY, DOOR, LINE, PRODUCT, SUPPLIER); missing keys use
	// DefaultMaxLen.
	MaxLen map[string]int `yaml:"max_len,omitempty" json:"max_len,omitempty"`
}

// Validate compiles every format and reports every problem, each naming the
// configuration field and the fix.
func (c Config) Validate() error {
	var errs []error
	for _, tok := range sortedKeys(c.MaxLen) {
		n := c.MaxLen[tok]
		if _, ok := DefaultMaxLen[tok]; !ok {
			errs = append(errs, fmt.Errorf("lots.max_len.%s: %w: unknown code token; use one of %s", tok, ErrConfig, strings.Join(sortedKeys(DefaultMaxLen), ", ")))
		} else if n < 1 || n > MaxLength {
			errs = append(errs, fmt.Errorf("lots.max_len.%s: %w: %d is out of range; give 1 to %d", tok, ErrConfig, n, MaxLength))
		}
	}
	for _, name := range sortedKeys(c.Formats) {
		fc := c.Formats[name]
		if name == "" || strings.ContainsAny(name, "{}") {
			errs = append(errs, fmt.Errorf("lots.formats.%q: %w: a format name may not be empty or contain braces", name, ErrConfig))
			continue
		}
		for _, tok := range sortedKeys(fc.MaxLen) {
			if _, ok := DefaultMaxLen[tok]; !ok {
				errs = append(errs, fmt.Errorf("lots.formats.%s.max_len.%s: %w: unknown code token; use one of %s", name, tok, ErrConfig, strings.Join(sortedKeys(DefaultMaxLen), ", ")))
			}
		}
		if _, err := Compile(name, fc, c.MaxLen); err != nil {
			errs = append(errs, fmt.Errorf("lots.formats.%s: %w", name, err))
		}
	}
	if c.DefaultFormat != "" {
		if _, ok := c.Formats[c.DefaultFormat]; !ok {
			errs = append(errs, fmt.Errorf("lots.default_format: %w: %q is not a format under lots.formats (have: %s)", ErrConfig, c.DefaultFormat, strings.Join(sortedKeys(c.Formats), ", ")))
		}
	}
	return errors.Join(errs...)
}

// Warnings lists what Validate accepts but an operator should know (ZPL
// escape characters in literals).
func (c Config) Warnings() []string {
	var out []string
	for _, name := range sortedKeys(c.Formats) {
		if f, err := Compile(name, c.Formats[name], c.MaxLen); err == nil {
			for _, w := range f.Warnings() {
				out = append(out, "lots.formats."+name+": "+w)
			}
		}
	}
	return out
}

// Format compiles the format called name, or the default format when name is
// "". A name containing '{' is taken as an ad-hoc template with the default
// sequence settings and the configured max_len.
func (c Config) Format(name string) (*Format, error) {
	if strings.Contains(name, "{") {
		return Compile("", FormatConfig{Format: name}, c.MaxLen)
	}
	if name == "" {
		name = c.DefaultFormat
		if name == "" {
			return nil, fmt.Errorf("%w: no format named and lots.default_format is not set; name a format or a template such as \"{YYMM}-{PRODUCT}-{SEQ:3}\"", ErrConfig)
		}
	}
	fc, ok := c.Formats[name]
	if !ok {
		return nil, fmt.Errorf("%w: no format %q under lots.formats (have: %s); name one of those or give a template such as \"{YYMM}-{PRODUCT}-{SEQ:3}\"", ErrConfig, name, strings.Join(sortedKeys(c.Formats), ", "))
	}
	f, err := Compile(name, fc, c.MaxLen)
	if err != nil {
		return nil, fmt.Errorf("lots.formats.%s: %w", name, err)
	}
	return f, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
