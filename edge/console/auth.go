package console

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// sessionCookie holds a login: name.expiry.signature, the signature an
// HMAC keyed by the token.
const sessionCookie = "dockgate_console"

type whoKey struct{}

// who is the name of the person making a request: the name they logged in
// with ("" when none was given).
func who(r *http.Request) string {
	s, _ := r.Context().Value(whoKey{}).(string)
	return s
}

// sessionKey derives the cookies' signing key from the token: a new token
// ends every session. On loopback (no token) the key is known to all, as
// anyone local is let in anyway; the cookie only carries a name there.
func sessionKey(token string) []byte {
	k := sha256.Sum256([]byte("dockgate console session\x00" + token))
	return k[:]
}

func (c *Console) sign(name string, exp int64) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(name + "\x00" + strconv.FormatInt(exp, 10)))
	return hex.EncodeToString(m.Sum(nil))
}

// session reads a valid session cookie: the name in it.
func (c *Console) session(r *http.Request) (string, bool) {
	ck, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", false
	}
	parts := strings.Split(ck.Value, ".")
	if len(parts) != 3 {
		return "", false
	}
	nameB, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "", false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || c.o.Now().Unix() > exp {
		return "", false
	}
	if !hmac.Equal([]byte(parts[2]), []byte(c.sign(string(nameB), exp))) {
		return "", false
	}
	return string(nameB), true
}

// authenticate applies the API's rule: anyone on loopback; elsewhere the
// bearer token or a session cookie.
func (c *Console) authenticate(r *http.Request) (string, bool) {
	name, ok := c.session(r)
	if c.o.Token == "" {
		return name, true
	}
	if ok {
		return name, true
	}
	if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok &&
		subtle.ConstantTimeCompare([]byte(got), []byte(c.o.Token)) == 1 {
		return "", true
	}
	return "", false
}

// refuse answers a request that is not logged in: a page is sent to the
// login form, anything else is a 401.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path != "/events" && r.Header.Get("HX-Request") == "" {
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="dockgate"`)
	http.Error(w, "log in first: the console needs the gateway's token (http.token_file)", http.StatusUnauthorized)
}

type loginData struct {
	Next      string
	Name      string
	NeedToken bool
}

func (c *Console) loginForm(w http.ResponseWriter, r *http.Request) {
	name, _ := c.session(r)
	p := c.newPage(r, "Log in", "", loginData{Next: safeNext(r.URL.Query().Get("next")), Name: name, NeedToken: c.o.Token != ""})
	c.render(w, http.StatusOK, "login", p)
}

// login checks the token (when one is asked for) and sets the session
// cookie with the person's name, which their acknowledgements and changes
// record.
func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d := loginData{Next: safeNext(r.PostForm.Get("next")), Name: strings.TrimSpace(r.PostForm.Get("name")), NeedToken: c.o.Token != ""}
	fail := func(msg string) {
		p := c.newPage(r, "Log in", "", d)
		p.Error = msg
		c.render(w, http.StatusUnauthorized, "login", p)
	}
	if err := checkName(d.Name); err != "" {
		fail(err)
		return
	}
	if c.o.Token != "" && subtle.ConstantTimeCompare([]byte(r.PostForm.Get("token")), []byte(c.o.Token)) != 1 {
		fail("Wrong token: give the gateway's token (the content of http.token_file, or DOCKGATE_HTTP_TOKEN).")
		return
	}
	exp := c.o.Now().Add(c.o.SessionTTL).Unix()
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: base64.RawURLEncoding.EncodeToString([]byte(d.Name)) + "." +
		strconv.FormatInt(exp, 10) + "." + c.sign(d.Name, exp), Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: r.TLS != nil, MaxAge: int(c.o.SessionTTL / time.Second)})
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// checkName is what is wrong with a person's name, "" when nothing is.
func checkName(name string) string {
	switch {
	case name == "":
		return "Give your name: acknowledgements and changes record who made them."
	case utf8.RuneCountInString(name) > 64:
		return "Give a shorter name (at most 64 characters)."
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return "Give your name on one line."
	}
	return ""
}

// safeNext keeps a redirect on the console: a local path only.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
