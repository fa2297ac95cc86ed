package portal

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Door roles.
const (
	RoleReceiving = "receiving"
	RoleShipping  = "shipping"
	RoleBoth      = "both"
)

// Directions of a tag or pass.
const (
	DirectionIn      = "in"
	DirectionOut     = "out"
	DirectionUnknown = "unknown"
)

// Defaults for DoorConfig.
const (
	DefaultMinReads        = 2
	DefaultRSSIFloor       = -75
	DefaultPresenceTimeout = 3 * time.Second
	DefaultDirectionMinGap = 100 * time.Millisecond
)

// DoorConfig is one door as configured under the doors: key.
type DoorConfig struct {
	ID string `yaml:"id"`
	// Role is receiving (default), shipping or both. Held-lot alerts fire
	// for tags going out, and for any tag not going in at a shipping door.
	Role string `yaml:"role"`
	// Reader is the id of the reader whose antennas watch this door.
	Reader          string   `yaml:"reader"`
	AntennasOutside []uint16 `yaml:"antennas_outside"`
	AntennasInside  []uint16 `yaml:"antennas_inside"`
	// MinReads above RSSIFloor make a tag arrived (default 2).
	MinReads int `yaml:"min_reads"`
	// RSSIFloor in dBm: weaker reads are ignored (default -75).
	RSSIFloor int `yaml:"rssi_floor"`
	// PresenceTimeout without reads makes a tag departed (default 3s).
	PresenceTimeout time.Duration `yaml:"presence_timeout"`
	// DirectionMinGap: peak times closer than this give direction unknown
	// (default 100ms).
	DirectionMinGap time.Duration `yaml:"direction_min_gap"`
}

// WithDefaults returns a copy of d with zero fields set to the defaults.
func (d DoorConfig) WithDefaults() DoorConfig {
	if d.Role == "" {
		d.Role = RoleReceiving
	}
	if d.MinReads == 0 {
		d.MinReads = DefaultMinReads
	}
	if d.RSSIFloor == 0 {
		d.RSSIFloor = DefaultRSSIFloor
	}
	if d.PresenceTimeout == 0 {
		d.PresenceTimeout = DefaultPresenceTimeout
	}
	if d.DirectionMinGap == 0 {
		d.DirectionMinGap = DefaultDirectionMinGap
	}
	return d
}

// Validate checks a door after WithDefaults; errors name the field and the fix.
func (d DoorConfig) Validate() error {
	var errs []error
	add := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("door %q: "+format, append([]any{d.ID}, a...)...))
	}
	if d.ID == "" {
		add("id is empty; give every door an id")
	}
	switch d.Role {
	case RoleReceiving, RoleShipping, RoleBoth:
	default:
		add("role %q is not one of receiving, shipping, both", d.Role)
	}
	if len(d.AntennasOutside) == 0 || len(d.AntennasInside) == 0 {
		add("antennas_outside and antennas_inside both need at least one antenna to tell in from out")
	}
	for _, a := range slices.Concat(d.AntennasOutside, d.AntennasInside) {
		if a == 0 {
			add("antenna 0 listed; antennas are numbered from 1")
		}
	}
	for _, a := range d.AntennasOutside {
		if slices.Contains(d.AntennasInside, a) {
			add("antenna %d is both outside and inside", a)
		}
	}
	if d.MinReads < 1 {
		add("min_reads %d must be at least 1", d.MinReads)
	}
	if d.RSSIFloor < -128 || d.RSSIFloor > 0 {
		add("rssi_floor %d dBm is out of range (-128 to 0; -75 is typical)", d.RSSIFloor)
	}
	if d.PresenceTimeout < 100*time.Millisecond {
		add("presence_timeout %v is too short (2s to 5s is typical at a door)", d.PresenceTimeout)
	}
	if d.DirectionMinGap < 0 {
		add("direction_min_gap %v must not be negative", d.DirectionMinGap)
	}
	return errors.Join(errs...)
}
