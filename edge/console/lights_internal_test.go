package console

import (
	"strings"
	"testing"
	"time"

	"github.com/dockgate/dockgate/edge/signals"
)

// boardLights is a door's light stack: a red alert lit and blinking with
// its own label, an amber rule off, a green lit by default, a white off.
func boardLights(at time.Time) []signals.Light {
	rules := signals.WithDefaults([]signals.Rule{
		{On: signals.EventHoldAlert, GPO: signals.Ports{2, 3}, For: 10 * time.Second, Pattern: signals.PatternBlink, Label: "Held lot — stop the <forklift>"},
		{On: signals.EventUnexpected, GPO: signals.Ports{3}, Color: signals.ColorAmber, Label: "Carton not expected — call the office"},
		{On: signals.EventPassMatched, GPO: signals.Ports{1}},
		{On: signals.EventPass, GPO: signals.Ports{4}},
	})
	return []signals.Light{
		{Rule: rules[0], Lit: true, Until: at.Add(7500 * time.Millisecond), Alert: true},
		{Rule: rules[1], Alert: true},
		{Rule: rules[2], Lit: true, Until: at.Add(2 * time.Second)},
		{Rule: rules[3]},
	}
}

// Each light shows its lamp in its colour and says it in words: the label,
// ON or off, the colour's name, blinking, the seconds left; the output and
// event in small type. The label is text, never markup.
func TestBoardLightWords(t *testing.T) {
	c, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	var b strings.Builder
	if err := c.pages["door"].ExecuteTemplate(&b, "board", &boardData{Door: Door{ID: "DOOR1"}, Lights: boardLights(at), At: at}); err != nil {
		t.Fatal(err)
	}
	html := b.String()
	items := strings.Split(html, `<li class="light `)[1:]
	if len(items) != 4 {
		t.Fatalf("%d lights, want 4:\n%s", len(items), html)
	}
	for i, want := range [][]string{
		{`light-on light-alert" data-rule="lot.hold.alert" data-color="red" data-lit="true"`, `class="lamp lamp-red lamp-blink"`,
			`<span class="light-label">Held lot — stop the &lt;forklift&gt;</span>`,
			`<strong>ON</strong> · <span class="nowrap">red lamp</span> · blinking · <span class="left nowrap" data-left="8">8 s left</span>`,
			`GPO 2 &#43; 3 · lot.hold.alert (alert)`},
		{`light-off light-alert" data-rule="carton.unexpected" data-color="amber" data-lit="false"`, `class="lamp lamp-amber"`,
			`<span class="light-label">Carton not expected — call the office</span>`, `off · <span class="nowrap">amber lamp</span></span>`, `GPO 3 · carton.unexpected (alert)`},
		{`light-on" data-rule="pass.matched" data-color="green" data-lit="true"`, `class="lamp lamp-green"`,
			`<span class="light-label">Pass OK</span>`, `<strong>ON</strong> · <span class="nowrap">green lamp</span> · <span class="left nowrap" data-left="2">2 s left</span>`, `GPO 1 · pass.matched</small>`},
		{`light-off" data-rule="pass" data-color="white" data-lit="false"`, `class="lamp lamp-white"`,
			`<span class="light-label">Pass</span>`, `off · <span class="nowrap">white lamp</span></span>`, `GPO 4 · pass</small>`},
	} {
		for _, w := range want {
			if !strings.Contains(items[i], w) {
				t.Errorf("light %d lacks %q:\n%s", i, w, items[i])
			}
		}
	}
	if strings.Contains(html, "<forklift>") {
		t.Error("a label went into the page as markup")
	}
}

// Every lamp colour a rule can have has its style.
func TestLampColorsStyled(t *testing.T) {
	css, err := assetFS.ReadFile("assets/console.css")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range signals.Colors {
		if !strings.Contains(string(css), ".lamp-"+c+" {") {
			t.Errorf("console.css has no .lamp-%s", c)
		}
	}
}
