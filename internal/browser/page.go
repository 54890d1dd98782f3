package browser

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Page is a browser tab, attached to with its own CDP session.
type Page struct {
	b         *Browser
	TargetID  string
	SessionID string
}

// NewPage opens a new tab on about:blank, attaches to it and enables the
// Page and Runtime domains and lifecycle events.
func (b *Browser) NewPage(ctx context.Context) (*Page, error) {
	var target struct {
		TargetID string `json:"targetId"`
	}
	if err := b.callInto(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		return nil, fmt.Errorf("browser: new page: %w", err)
	}
	var session struct {
		SessionID string `json:"sessionId"`
	}
	if err := b.callInto(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &session); err != nil {
		return nil, fmt.Errorf("browser: new page: %w", err)
	}
	p := &Page{b: b, TargetID: target.TargetID, SessionID: session.SessionID}
	for _, c := range []struct {
		method string
		params any
	}{
		{"Page.enable", nil},
		{"Runtime.enable", nil},
		{"Page.setLifecycleEventsEnabled", map[string]any{"enabled": true}},
	} {
		if _, err := p.Call(ctx, c.method, c.params); err != nil {
			return nil, fmt.Errorf("browser: new page: %w", err)
		}
	}
	return p, nil
}

func (b *Browser) callInto(ctx context.Context, sessionID, method string, params, out any) error {
	res, err := b.conn.call(ctx, sessionID, method, params)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(res, out); err != nil {
		return fmt.Errorf("cdp: %s: decoding result: %w", method, err)
	}
	return nil
}

// Call sends a CDP command to the page's session and returns its result.
func (p *Page) Call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	return p.b.conn.call(ctx, p.SessionID, method, params)
}

// Close closes the tab.
func (p *Page) Close(ctx context.Context) error {
	_, err := p.b.conn.call(ctx, "", "Target.closeTarget", map[string]any{"targetId": p.TargetID})
	return err
}

// Navigate loads url in the page and waits for the new document's load
// event. A network error (connection refused, DNS...) is an error, an HTTP
// error status is not. A same-document navigation (only the #fragment
// changes) returns at once.
func (p *Page) Navigate(ctx context.Context, url string) error {
	q := p.b.conn.subscribe(p.SessionID)
	defer q.close()
	var res struct {
		FrameID   string `json:"frameId"`
		LoaderID  string `json:"loaderId"`
		ErrorText string `json:"errorText"`
	}
	if err := p.b.callInto(ctx, p.SessionID, "Page.navigate", map[string]any{"url": url}, &res); err != nil {
		return fmt.Errorf("browser: navigate to %s: %w", url, err)
	}
	if res.ErrorText != "" {
		return fmt.Errorf("browser: navigate to %s: %s", url, res.ErrorText)
	}
	if res.LoaderID == "" {
		return nil
	}
	if err := waitLoad(ctx, q, res.FrameID, func(l string) bool { return l == res.LoaderID }); err != nil {
		return fmt.Errorf("browser: navigate to %s: %w", url, err)
	}
	return nil
}

// ClickAndWait clicks the first element matching selector, which must start
// a navigation (a submit button, a link), and waits for the load event of
// the document that replaces the current one. The current document is told
// apart by its loader id, so the old page's state never satisfies the wait.
func (p *Page) ClickAndWait(ctx context.Context, selector string) error {
	q := p.b.conn.subscribe(p.SessionID)
	defer q.close()
	main, err := p.mainFrame(ctx)
	if err != nil {
		return fmt.Errorf("browser: click %q: %w", selector, err)
	}
	if err := p.Click(ctx, selector); err != nil {
		// The click may tear the document down before Runtime.evaluate
		// answers: that is the expected navigation, not a failure.
		var cdpErr *Error
		if !errors.As(err, &cdpErr) {
			return err
		}
	}
	if err := waitLoad(ctx, q, main.ID, func(l string) bool { return l != main.LoaderID }); err != nil {
		return fmt.Errorf("browser: click %q and wait for the next page: %w", selector, err)
	}
	return nil
}

// waitLoad waits for the "load" lifecycle event of frameID for a document
// whose loader id is accepted. A navigation of that frame to Chromium's
// error page is an error.
func waitLoad(ctx context.Context, q *eventQueue, frameID string, accept func(loaderID string) bool) error {
	for {
		ev, err := q.next(ctx)
		if err != nil {
			return fmt.Errorf("waiting for the load event: %w", err)
		}
		switch ev.Method {
		case "Page.lifecycleEvent":
			var e struct {
				FrameID  string `json:"frameId"`
				LoaderID string `json:"loaderId"`
				Name     string `json:"name"`
			}
			if json.Unmarshal(ev.Params, &e) == nil && e.FrameID == frameID && e.Name == "load" && accept(e.LoaderID) {
				return nil
			}
		case "Page.frameNavigated":
			var e struct {
				Frame frame `json:"frame"`
			}
			if json.Unmarshal(ev.Params, &e) == nil && e.Frame.ID == frameID && accept(e.Frame.LoaderID) &&
				strings.HasPrefix(e.Frame.URL, "chrome-error:") {
				return fmt.Errorf("navigation to %s failed (Chromium shows its error page)", e.Frame.UnreachableURL)
			}
		}
	}
}

type frame struct {
	ID             string `json:"id"`
	LoaderID       string `json:"loaderId"`
	URL            string `json:"url"`
	URLFragment    string `json:"urlFragment"`
	UnreachableURL string `json:"unreachableUrl"`
}

func (p *Page) mainFrame(ctx context.Context) (frame, error) {
	var res struct {
		FrameTree struct {
			Frame frame `json:"frame"`
		} `json:"frameTree"`
	}
	err := p.b.callInto(ctx, p.SessionID, "Page.getFrameTree", nil, &res)
	return res.FrameTree.Frame, err
}

// URL returns the URL of the page's current (committed) document.
func (p *Page) URL(ctx context.Context) (string, error) {
	f, err := p.mainFrame(ctx)
	if err != nil {
		return "", fmt.Errorf("browser: url: %w", err)
	}
	return f.URL + f.URLFragment, nil
}

// JSError is a JavaScript exception thrown (or promise rejection) by Eval.
type JSError struct {
	Text string // e.g. "Uncaught Error: boom\n    at <anonymous>:1:7"
}

func (e *JSError) Error() string { return "browser: javascript: " + e.Text }

// Eval evaluates the JavaScript expression js in the page, awaits it if it
// is a promise, and decodes its JSON value into out (if out is not nil; a
// result of undefined, NaN or Infinity is then an error). A thrown exception
// or rejected promise is a [*JSError] with the exception's text.
func (p *Page) Eval(ctx context.Context, js string, out any) error {
	var res struct {
		Result struct {
			Type                string          `json:"type"`
			Value               json.RawMessage `json:"value"`
			UnserializableValue string          `json:"unserializableValue"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception *struct {
				Description string          `json:"description"`
				Value       json.RawMessage `json:"value"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	err := p.b.callInto(ctx, p.SessionID, "Runtime.evaluate", map[string]any{
		"expression":    js,
		"returnByValue": true,
		"awaitPromise":  true,
		"userGesture":   true,
	}, &res)
	if err != nil {
		return fmt.Errorf("browser: eval: %w", err)
	}
	if d := res.ExceptionDetails; d != nil {
		text := d.Text
		if x := d.Exception; x != nil {
			switch {
			case x.Description != "":
				text += " " + x.Description
			case len(x.Value) > 0:
				text += " " + string(x.Value)
			}
		}
		return &JSError{Text: text}
	}
	if out == nil {
		return nil
	}
	if res.Result.UnserializableValue != "" {
		return fmt.Errorf("browser: eval: result %s is not JSON", res.Result.UnserializableValue)
	}
	if len(res.Result.Value) == 0 {
		return fmt.Errorf("browser: eval: result is %s, not a value", res.Result.Type)
	}
	if err := json.Unmarshal(res.Result.Value, out); err != nil {
		return fmt.Errorf("browser: eval: decoding result: %w", err)
	}
	return nil
}

// jsString returns s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a JSON string is a JavaScript string literal
	return string(b)
}

// onElement evaluates body in a function where el is the first element
// matching selector; a missing element is an error. body must return a
// JSON value (or nothing).
func (p *Page) onElement(ctx context.Context, what, selector, body string, out any) error {
	js := fmt.Sprintf(`(() => {
	const el = document.querySelector(%s);
	if (el === null) return {found: false};
	return {found: true, value: (() => { %s })()};
})()`, jsString(selector), body)
	var res struct {
		Found bool            `json:"found"`
		Value json.RawMessage `json:"value"`
	}
	if err := p.Eval(ctx, js, &res); err != nil {
		return fmt.Errorf("browser: %s %q: %w", what, selector, err)
	}
	if !res.Found {
		return fmt.Errorf("browser: %s %q: no element matches", what, selector)
	}
	if out != nil {
		if err := json.Unmarshal(res.Value, out); err != nil {
			return fmt.Errorf("browser: %s %q: %w", what, selector, err)
		}
	}
	return nil
}

// Fill sets the value of the first element matching selector (an input,
// textarea or select) and dispatches "input" and "change" events, as typing
// would.
func (p *Page) Fill(ctx context.Context, selector, value string) error {
	return p.onElement(ctx, "fill", selector, `
	if (!("value" in el)) throw new Error("element <" + el.localName + "> has no value");
	el.focus();
	el.value = `+jsString(value)+`;
	el.dispatchEvent(new Event("input", {bubbles: true}));
	el.dispatchEvent(new Event("change", {bubbles: true}));`, nil)
}

// Click scrolls the first element matching selector into view and clicks it
// (HTMLElement.click: a DOM click, not a synthesized mouse event; a disabled
// control ignores it). Use ClickAndWait when the click navigates.
func (p *Page) Click(ctx context.Context, selector string) error {
	return p.onElement(ctx, "click", selector, `
	el.scrollIntoView({block: "center", inline: "center"});
	el.click();`, nil)
}

// Text returns the innerText of the first element matching selector.
func (p *Page) Text(ctx context.Context, selector string) (string, error) {
	var s string
	err := p.onElement(ctx, "text of", selector, `return el.innerText;`, &s)
	return s, err
}

// WaitFor polls until an element matches selector, or ctx is done.
func (p *Page) WaitFor(ctx context.Context, selector string) error {
	js := "document.querySelector(" + jsString(selector) + ") !== null"
	for {
		var found bool
		err := p.Eval(ctx, js, &found)
		var jsErr *JSError
		switch {
		case err == nil && found:
			return nil
		case errors.As(err, &jsErr): // an invalid selector: waiting will not help
			return fmt.Errorf("browser: wait for %q: %w", selector, err)
		}
		// Otherwise not there yet, or no document to ask (mid-navigation).
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("browser: wait for %q: %w", selector, ctx.Err())
		case <-t.C:
		}
	}
}

// Screenshot writes a PNG of the whole page (not only the viewport, up to
// 16384 CSS pixels high) to path, creating its directory.
func (p *Page) Screenshot(ctx context.Context, path string) error {
	type size struct {
		Width  float64 `json:"width"`
		Height float64 `json:"height"`
	}
	var metrics struct {
		CSSContentSize *size `json:"cssContentSize"`
		ContentSize    size  `json:"contentSize"`
	}
	if err := p.b.callInto(ctx, p.SessionID, "Page.getLayoutMetrics", nil, &metrics); err != nil {
		return fmt.Errorf("browser: screenshot: %w", err)
	}
	sz := metrics.ContentSize
	if metrics.CSSContentSize != nil {
		sz = *metrics.CSSContentSize
	}
	w := math.Max(1, math.Ceil(sz.Width))
	h := math.Min(16384, math.Max(1, math.Ceil(sz.Height)))
	var shot struct {
		Data string `json:"data"`
	}
	err := p.b.callInto(ctx, p.SessionID, "Page.captureScreenshot", map[string]any{
		"format":                "png",
		"captureBeyondViewport": true,
		"clip":                  map[string]any{"x": 0, "y": 0, "width": w, "height": h, "scale": 1},
	}, &shot)
	if err != nil {
		return fmt.Errorf("browser: screenshot: %w", err)
	}
	png, err := base64.StdEncoding.DecodeString(shot.Data)
	if err != nil {
		return fmt.Errorf("browser: screenshot: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("browser: screenshot: %w", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return fmt.Errorf("browser: screenshot: %w", err)
	}
	return nil
}
