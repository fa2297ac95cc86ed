package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/dockgate/dockgate/edge/api"
	"github.com/dockgate/dockgate/edge/console"
)

// tokenServer is the API with a token (a non-loopback listener) and the
// console mounted beside it, on a loopback test server.
func tokenServer(t testing.TB, token string) *httptest.Server {
	t.Helper()
	s := api.New(token, nil, nil)
	s.Handle("GET /outbox", func(w http.ResponseWriter, _ *http.Request) { api.JSON(w, 200, map[string]int{"next_seq": 1}) })
	c, err := console.New(console.Options{Token: token, Site: "test", Gateway: "gw"})
	if err != nil {
		t.Fatal(err)
	}
	s.Mount(c)
	srv := httptest.NewServer(s.Handler())
	// A browser's event stream ends only when its connection does.
	t.Cleanup(func() { srv.CloseClientConnections(); srv.Close() })
	return srv
}

func do(t testing.TB, method, u string, hdr map[string]string, form url.Values) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	req.Header.Set("Accept", "text/html")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// Off loopback the console asks for the token, as the API does: a login
// with it sets a session cookie that opens the console and nothing of the
// API; the bearer token opens both; a new token ends the sessions.
func TestConsoleLoginWithToken(t *testing.T) {
	srv := tokenServer(t, "s3cret")
	if resp, _ := do(t, "GET", srv.URL+"/doors/DOOR1", nil, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login?next=%2Fdoors%2FDOOR1" {
		t.Fatalf("a page without login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := do(t, "GET", srv.URL+"/events?topic=doors", nil, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the event stream without login: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", srv.URL+"/assets/console.css", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("assets without login: %d", resp.StatusCode)
	}
	resp, body := do(t, "POST", srv.URL+"/login", nil, url.Values{"name": {"Ana"}, "token": {"guess"}, "next": {"/"}})
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 || !strings.Contains(body, "Wrong token") {
		t.Fatalf("a wrong token: %d %v", resp.StatusCode, resp.Cookies())
	}
	resp, _ = do(t, "POST", srv.URL+"/login", nil, url.Values{"name": {"Ana"}, "token": {"s3cret"}, "next": {"//evil.example/"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" || len(resp.Cookies()) != 1 {
		t.Fatalf("login: %d %s %v", resp.StatusCode, resp.Header.Get("Location"), resp.Cookies())
	}
	ck := resp.Cookies()[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || strings.Contains(ck.Value, "s3cret") {
		t.Fatalf("cookie %+v", ck)
	}
	cookie := map[string]string{"Cookie": ck.Name + "=" + ck.Value}
	if resp, body := do(t, "GET", srv.URL+"/", cookie, nil); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Ana") {
		t.Fatalf("a page with the session: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "GET", srv.URL+"/outbox", cookie, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the API with the console's cookie: %d, want 401", resp.StatusCode)
	}
	bearer := map[string]string{"Authorization": "Bearer s3cret"}
	for _, p := range []string{"/", "/outbox"} {
		if resp, _ := do(t, "GET", srv.URL+p, bearer, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s with the token: %d", p, resp.StatusCode)
		}
	}
	tampered := map[string]string{"Cookie": ck.Name + "=" + strings.Replace(ck.Value, ".", "x.", 1)}
	if resp, _ := do(t, "GET", srv.URL+"/", tampered, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a tampered cookie: %d", resp.StatusCode)
	}
	other := tokenServer(t, "new-token")
	if resp, _ := do(t, "GET", other.URL+"/", cookie, nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a session of the old token: %d", resp.StatusCode)
	}
	if resp, _ := do(t, "POST", srv.URL+"/logout", cookie, url.Values{}); resp.StatusCode != http.StatusSeeOther || resp.Cookies()[0].MaxAge >= 0 {
		t.Fatalf("logout: %d %v", resp.StatusCode, resp.Cookies())
	}
}
