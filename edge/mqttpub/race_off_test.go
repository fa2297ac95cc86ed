//go:build interop && !race

package mqttpub

const raceEnabled = false
