// Package readersim simulates RFID readers that speak the real bytes, so the
// gateway, its tests and installers can exercise everything above the
// transport without hardware.
//
// A [Scenario] (YAML) describes cartons — sets of EPCs — moving in or out
// through doors over time: each antenna sees a tag with an RSSI curve over
// the carton's dwell time, reads succeed with a per-cycle read rate (misses
// included), stray tags show up on single antennas, and faults break the
// connection (drop it, go silent as a half-open TCP connection would) at
// given times; GPI steps change the reader's inputs (a photo eye). Built-in
// scenarios: dock-in, dock-out, door-tune, mixed, photo-eye, two-doors.
//
// [Sim] serves the scenario as an LLRP reader on a net.Listener: connection
// event, answers to every request, keepalives at the configured period and
// RO_ACCESS_REPORTs. [SerialSim] serves the same scenario as an M100/JRD,
// CF-RU5102 or ASCII serial reader over any io.ReadWriter (net.Pipe, pty).
// Asked for all capabilities, [Sim] lists R420-like RF tables, or an
// Impinj R700's or Zebra FX9600's ([Sim.Model], [ModelCapabilities]), and
// Impinj- and Zebra-style custom parameters, which its tag reports carry
// too; it records the ROSpec it was sent, RF settings included
// ([Sim.LastROSpec]), and honours them: lower transmit power weakens reads
// and drops those below the floor, a single-target session 1–3 reports a
// tag once until its flag persists back ([PersistS1], [PersistS23]). The
// serial simulator takes the M100 and RU5102 power commands likewise.
// It has 4 GPIs and 4 GPOs: it records every output a client sets
// ([Sim.GPO], [Sim.GPOWrites]), sends GPIEvents for the enabled inputs,
// answers GET_READER_CONFIG with the inputs' current state and the
// outputs, and runs ROSpecs on their start and stop triggers (immediate,
// periodic, GPI, duration).
// A time scale runs scenarios faster than real time for tests.
package readersim
