//go:build interop && race

package mqttpub

// raceEnabled: the race detector multiplies memory use, so RSS is not
// measured under it.
const raceEnabled = true
