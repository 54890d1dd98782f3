package browser

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Error is an error answered by the browser to a CDP command.
type Error struct {
	Method  string // the command that failed
	Code    int64
	Message string
	Data    string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("cdp: %s: %s (%d)", e.Method, e.Message, e.Code)
	if e.Data != "" {
		s += ": " + e.Data
	}
	return s
}

// message is any CDP message in either direction: a command (ID, Method,
// Params), its response (ID, Result or Error) or an event (Method, Params).
type message struct {
	ID        int64           `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
		Data    string `json:"data"`
	} `json:"error,omitempty"`
}

// answer returns the result of a response, or its error as an *Error.
func (m *message) answer(method string) (json.RawMessage, error) {
	if m.Error != nil {
		return nil, &Error{Method: method, Code: m.Error.Code, Message: m.Error.Message, Data: m.Error.Data}
	}
	return m.Result, nil
}

// event is a CDP event of one session.
type event struct {
	Method string
	Params json.RawMessage
}

// conn is a CDP connection over a pair of pipes; every message is a JSON
// object terminated by a NUL byte.
type conn struct {
	r, w   *os.File // ours: r reads the browser's fd 4, w writes its fd 3
	wmu    sync.Mutex
	nextID atomic.Int64

	mu      sync.Mutex
	pending map[int64]chan *message
	subs    map[*eventQueue]struct{}
	err     error         // why the connection ended; set before done is closed
	done    chan struct{} // closed when the reader stops
}

func newConn(r, w *os.File) *conn {
	c := &conn{
		r:       r,
		w:       w,
		pending: make(map[int64]chan *message),
		subs:    make(map[*eventQueue]struct{}),
		done:    make(chan struct{}),
	}
	go c.readLoop()
	return c
}

func (c *conn) readLoop() {
	br := bufio.NewReaderSize(c.r, 64<<10)
	for {
		b, err := br.ReadBytes(0)
		if err != nil {
			c.shutdown(fmt.Errorf("cdp: connection to browser lost: %w", err))
			return
		}
		var m message
		if err := json.Unmarshal(b[:len(b)-1], &m); err != nil {
			continue // not ours to judge; a malformed message is dropped
		}
		if m.ID != 0 {
			c.mu.Lock()
			ch := c.pending[m.ID]
			delete(c.pending, m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- &m // buffered: never blocks
			}
			continue
		}
		if m.Method == "" {
			continue
		}
		c.mu.Lock()
		for q := range c.subs {
			if q.session == m.SessionID {
				q.push(event{Method: m.Method, Params: m.Params})
			}
		}
		c.mu.Unlock()
	}
}

// shutdown records why the connection ended and wakes every waiter.
func (c *conn) shutdown(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return
	}
	c.err = err
	c.pending = nil
	close(c.done)
}

// close closes our ends of the pipes, which ends the reader.
func (c *conn) close() {
	c.shutdown(errors.New("cdp: browser closed"))
	c.w.Close()
	c.r.Close()
}

// call sends a command and waits for its response, the end of the
// connection or ctx, whichever comes first.
func (c *conn) call(ctx context.Context, sessionID, method string, params any) (json.RawMessage, error) {
	id := c.nextID.Add(1)
	b, err := json.Marshal(struct {
		ID        int64  `json:"id"`
		Method    string `json:"method"`
		Params    any    `json:"params,omitempty"`
		SessionID string `json:"sessionId,omitempty"`
	}{id, method, params, sessionID})
	if err != nil {
		return nil, fmt.Errorf("cdp: %s: encoding params: %w", method, err)
	}
	ch := make(chan *message, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", method, c.err)
	}
	c.pending[id] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, id) // no-op on a nil map
		c.mu.Unlock()
	}

	c.wmu.Lock()
	if d, ok := ctx.Deadline(); ok {
		c.w.SetWriteDeadline(d)
	} else {
		c.w.SetWriteDeadline(time.Time{})
	}
	_, err = c.w.Write(append(b, 0))
	c.wmu.Unlock()
	if err != nil {
		forget()
		return nil, fmt.Errorf("cdp: %s: %w", method, err)
	}

	select {
	case m := <-ch:
		return m.answer(method)
	case <-ctx.Done():
		forget()
		return nil, fmt.Errorf("cdp: %s: %w", method, ctx.Err())
	case <-c.done:
		select {
		case m := <-ch: // answered just before the end
			return m.answer(method)
		default:
			return nil, fmt.Errorf("%s: %w", method, c.err)
		}
	}
}

// subscribe returns a queue that receives, from now on, every event of the
// session ("" for the browser's own). Close it when done.
func (c *conn) subscribe(sessionID string) *eventQueue {
	q := &eventQueue{c: c, session: sessionID, notify: make(chan struct{}, 1)}
	c.mu.Lock()
	c.subs[q] = struct{}{}
	c.mu.Unlock()
	return q
}

// eventQueue is an unbounded queue of events, so that the reader never blocks.
type eventQueue struct {
	c       *conn
	session string
	notify  chan struct{}

	mu    sync.Mutex
	items []event
}

func (q *eventQueue) push(e event) {
	q.mu.Lock()
	q.items = append(q.items, e)
	q.mu.Unlock()
	select {
	case q.notify <- struct{}{}:
	default:
	}
}

// next returns the oldest queued event, waiting for one if needed.
func (q *eventQueue) next(ctx context.Context) (event, error) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			e := q.items[0]
			q.items[0] = event{}
			q.items = q.items[1:]
			q.mu.Unlock()
			return e, nil
		}
		q.mu.Unlock()
		select {
		case <-q.notify:
		case <-ctx.Done():
			return event{}, ctx.Err()
		case <-q.c.done:
			return event{}, q.c.err
		}
	}
}

func (q *eventQueue) close() {
	q.c.mu.Lock()
	delete(q.c.subs, q)
	q.c.mu.Unlock()
}
