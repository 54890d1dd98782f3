package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/axis-h40/axis/axis"
)

// Sign-in and sessions.
//
// A session is a random 32-byte id (hex) in the HttpOnly, SameSite=Strict
// cookie axis_session (Path=/admin/, Secure over TLS), kept in the store
// (so any node on a shared store serves it) under the SHA-256 of the id
// with its expiry and its own random CSRF token. Every
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

// storedSession is a session as the store keeps it (store.PutSession):
// in the store, not in this process, so that every axisd node on one
// PostgreSQL store serves a signed-in administrator.
type storedSession struct {
	CSRF    string      `json:"csrf"`
	Created time.Time   `json:"created"`
	Expires time.Time   `json:"expires"`
	IP      string      `json:"ip"`
	Caller  axis.Caller `json:"caller"`
}

// sessions are kept in the hub's store under the SHA-256 of their ids;
// expired ones are swept when a new one is put.
type sessions struct{ hub *axis.Hub }

func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

func (ss *sessions) create(ctx context.Context, now time.Time, ttl time.Duration, ip string, caller axis.Caller) (string, *session, error) {
	id := randomHex()
	s := &session{csrf: randomHex(), created: now, expires: now.Add(ttl), ip: ip, caller: caller}
	v, err := json.Marshal(storedSession{CSRF: s.csrf, Created: s.created, Expires: s.expires, IP: ip, Caller: caller})
	if err != nil {
		return "", nil, err
	}
	if err := ss.hub.Store().PutSession(ctx, sessionKey(id), v, s.expires, now); err != nil {
		return "", nil, err
	}
	return id, s, nil
}

// get is the valid session of id, nil when there is none (or it expired).
func (ss *sessions) get(ctx context.Context, id string, now time.Time) (*session, error) {
	if len(id) != 64 {
		return nil, nil
	}
	v, err := ss.hub.Store().Session(ctx, sessionKey(id), now)
	if err != nil || v == nil {
		return nil, err
	}
	var st storedSession
	if err := json.Unmarshal(v, &st); err != nil {
		return nil, fmt.Errorf("console: session unreadable: %w", err)
	}
	return &session{csrf: st.CSRF, created: st.Created, expires: st.Expires, ip: st.IP, caller: st.Caller}, nil
}

func (ss *sessions) delete(ctx context.Context, id string) error {
	return ss.hub.Store().DeleteSession(ctx, sessionKey(id))
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

// current returns the request's valid session and its id; an error is
// the store's (a session cannot be read: not the same as no session).
func (s *server) current(r *http.Request) (string, *session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return "", nil, nil
	}
	ss, err := s.sessions.get(r.Context(), c.Value, s.opt.Now())
	return c.Value, ss, err
}

// authed requires a valid session (else 303 to the sign-in page) and, for
// a POST, the session's CSRF token in the form field "csrf" (else 403).
func (s *server) authed(next func(http.ResponseWriter, *http.Request, *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, ss, err := s.current(r)
		if err != nil {
			s.unavailable(w, r, err)
			return
		}
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
	if _, ss, _ := s.current(r); ss != nil {
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
	id, _, err := s.sessions.create(r.Context(), now, s.opt.SessionTTL, ip, caller)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
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
	if id, _, _ := s.current(r); id != "" {
		if err := s.sessions.delete(r.Context(), id); err != nil {
			s.unavailable(w, r, err)
			return
		}
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
