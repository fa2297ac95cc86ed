//go:build !race

package mqttpub

const raceEnabled = false
