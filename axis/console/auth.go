package console

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/axis-h40/axis/axis"
)

// Sign-in and sessions.
//
// A session is a random 32-byte id (hex) in the HttpOnly, SameSite=Strict
// cookie axis_session (Path=/admin/, Secure over TLS), kept in memory under
// the SHA-256 of the id with its expiry and its own random CSRF token. Every
// POST form carries the token in a hidden field "csrf". The sign-in form,
// before there is a session, is protected by a double-submit token: a
// pre-session cookie whose value the form repeats in its hidden field.
// Failed sign-ins (a wrong token, or one that is not an administrator's)
// are logged with the client IP and counted by the hub's one auth-failure
// limiter (axis.Hub.AuthFailure, shared with the API and VDXP): past
// limits.auth_failures_per_5m failures from an address, a further FAILED
// sign-in is answered 429 with Retry-After and the Vietnamese lock-out
// message. The token is checked first: the right administrator token
// always signs in, however many failures came before it from that address
// (it did not before: the lock-out refused it too). A sign-in form without
// its CSRF double-submit is not a failed authentication (no token was
// tried).

type session struct {
	csrf    string
	created time.Time
	expires time.Time
	ip      string
	caller  axis.Caller // who signed in: an administrator or a viewer
}

type sessions struct {
	mu sync.Mutex
	m  map[string]*session // SHA-256 of the session id → session
}

// maxSessions bounds the sessions kept; sign-ins beyond it first drop the
// expired ones, then the oldest.
const maxSessions = 10_000

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func (ss *sessions) create(now time.Time, ttl time.Duration, ip string) (string, *session) {
	id := randomHex()
	s := &session{csrf: randomHex(), created: now, expires: now.Add(ttl), ip: ip}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		var oldestKey string
		var oldest time.Time
		for k, v := range ss.m {
			if !now.Before(v.expires) {
				delete(ss.m, k)
				continue
			}
			if oldestKey == "" || v.created.Before(oldest) {
				oldestKey, oldest = k, v.created
			}
		}
		if len(ss.m) >= maxSessions {
			delete(ss.m, oldestKey)
		}
	}
	ss.m[sessionKey(id)] = s
	return id, s
}

func (ss *sessions) get(id string, now time.Time) *session {
	if len(id) != 64 {
		return nil
	}
	k := sessionKey(id)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[k]
	if s == nil {
		return nil
	}
	if !now.Before(s.expires) {
		delete(ss.m, k)
		return nil
	}
	return s
}

func (ss *sessions) delete(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, sessionKey(id))
}

// randomHex is 32 bytes from crypto/rand, hex-encoded.
func randomHex() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics if the OS cannot give randomness)
	return hex.EncodeToString(b)
}

func equalTokens(a, b string) bool {
	return a != "" && len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func (s *server) secure(r *http.Request) bool { return r.TLS != nil || s.opt.SecureCookies }

func (s *server) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: cookiePath, MaxAge: maxAge,
		HttpOnly: true, Secure: s.secure(r), SameSite: http.SameSiteStrictMode})
}

// current returns the request's valid session and its id.
func (s *server) current(r *http.Request) (string, *session) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", nil
	}
	return c.Value, s.sessions.get(c.Value, s.opt.Now())
}

// authed requires a valid session (else 303 to the sign-in page) and, for
// a POST, the session's CSRF token in the form field "csrf" (else 403).
func (s *server) authed(next func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, ss := s.current(r)
		if ss == nil {
			http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				s.badRequest(w, r, ss, "Biểu mẫu gửi lên không đọc được.")
				return
			}
			if !equalTokens(r.PostForm.Get("csrf"), ss.csrf) {
				s.log.Warn("admin console: CSRF token missing or wrong", "remote_ip", s.opt.ClientIP(r), "path", r.URL.Path)
				s.forbidden(w, r, ss, "Mã chống giả mạo (CSRF) của biểu mẫu không hợp lệ. Hãy tải lại trang rồi thử lại.")
				return
			}
		}
		next(w, r, ss)
	}
}

type loginBody struct {
	Token string // the double-submit value the form repeats
}

// loginToken returns the pre-session cookie's token, making (and setting) a
// new one when the request has none.
func (s *server) loginToken(w http.ResponseWriter, r *http.Request, fresh bool) string {
	if c, err := r.Cookie(loginCookie); err == nil && len(c.Value) == 64 && !fresh {
		if _, err := hex.DecodeString(c.Value); err == nil {
			return c.Value
		}
	}
	t := randomHex()
	s.setCookie(w, r, loginCookie, t, 3600)
	return t
}

func (s *server) loginForm(w http.ResponseWriter, r *http.Request) {
	if _, ss := s.current(r); ss != nil {
		http.Redirect(w, r, "/admin/", http.StatusSeeOther)
		return
	}
	p := page{Title: "Đăng nhập", Body: loginBody{Token: s.loginToken(w, r, false)}}
	if r.URL.Query().Get("out") == "1" {
		p.Flash = "Bạn đã đăng xuất."
	}
	s.render(w, r, http.StatusOK, "login", nil, p)
}

// refused is the one message of a wrong token and of a token that is not an
// administrator's: the form does not tell which tokens exist.
const refused = "Mã quản trị không đúng hoặc không có quyền quản trị."

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	now, ip := s.opt.Now(), s.opt.ClientIP(r)
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		s.badRequest(w, r, nil, "Biểu mẫu gửi lên không đọc được.")
		return
	}
	c, err := r.Cookie(loginCookie)
	if err != nil || !equalTokens(r.PostForm.Get("csrf"), c.Value) {
		s.log.Warn("admin console: sign-in form without its CSRF cookie or with a wrong one", "remote_ip", ip)
		s.render(w, r, http.StatusForbidden, "login", nil, page{Title: "Đăng nhập",
			Error: "Biểu mẫu đăng nhập đã hết hạn hoặc không hợp lệ (trình duyệt cần cho phép cookie). Vui lòng nhập lại.",
			Body:  loginBody{Token: s.loginToken(w, r, true)}})
		return
	}
	caller, ok := s.hub.Directory().Authenticate(strings.TrimSpace(r.PostForm.Get("token")))
	if !ok || !caller.Admin {
		reason := "unknown token"
		if ok {
			reason = "not an administrator: " + caller.String()
		}
		if wait, limited := s.hub.AuthFailure(axis.SurfaceConsole, ip, now); limited {
			secs := axis.RetryAfterSeconds(wait)
			s.log.Warn("admin console: sign-in refused, too many failures", "remote_ip", ip, "reason", reason, "retry_after_s", secs)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			s.render(w, r, http.StatusTooManyRequests, "login", nil, page{Title: "Đăng nhập",
				Error: fmt.Sprintf("Đăng nhập sai quá nhiều lần từ địa chỉ này. Vui lòng thử lại sau %s.", waitText(secs)),
				Body:  loginBody{Token: s.loginToken(w, r, false)}})
			return
		}
		s.log.Warn("admin console: sign-in refused", "remote_ip", ip, "reason", reason)
		s.render(w, r, http.StatusUnauthorized, "login", nil, page{Title: "Đăng nhập", Error: refused,
			Body: loginBody{Token: s.loginToken(w, r, false)}})
		return
	}
	id, sess := s.sessions.create(now, s.opt.SessionTTL, ip)
	sess.caller = caller
	// The sign-in is an event in the chain, with the name (admin.users).
	if err := s.hub.AdminAction(r.Context(), caller, "signed in to the console from "+ip); err != nil {
		s.log.Error("admin console: recording the sign-in", "err", err)
	}
	s.setCookie(w, r, sessionCookie, id, int(s.opt.SessionTTL/time.Second))
	s.setCookie(w, r, loginCookie, "", -1)
	s.log.Info("admin console: signed in", "remote_ip", ip, "caller", caller.String())
	http.Redirect(w, r, "/admin/", http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request, _ *session) {
	if id, _ := s.current(r); id != "" {
		s.sessions.delete(id)
	}
	s.setCookie(w, r, sessionCookie, "", -1)
	s.log.Info("admin console: signed out", "remote_ip", s.opt.ClientIP(r))
	http.Redirect(w, r, "/admin/login?out=1", http.StatusSeeOther)
}

// waitText says a wait in seconds in Vietnamese, rounded up to minutes past
// one minute.
func waitText(secs int) string {
	if secs < 60 {
		return fmt.Sprintf("%d giây", secs)
	}
	return fmt.Sprintf("%d phút", (secs+59)/60)
}
