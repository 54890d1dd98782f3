package axis

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/axis-h40/axis/store/record"
)

// Push delivery: an agency with push_url gets each document POSTed to it
// and acknowledges it like any other.

// DocIDHeader carries the hub's document id on push deliveries.
const DocIDHeader = "X-Axis-Doc-Id"

// pushLoop POSTs each queued envelope of an agency to its push_url; 2xx
// means delivered. Failures retry with backoff. Pull keeps working.
func (h *Hub) pushLoop(ctx context.Context, a *Agency, client *http.Client, wake <-chan struct{}) {
	rc := h.cfg.Relay
	bo := &backoff{min: rc.RetryMin.Duration, max: rc.RetryMax.Duration}
	h.metrics.pushes().watch(a.OrganID)
	for ctx.Err() == nil {
		items, err := h.db.Queued(ctx, a.OrganID, 0, 32)
		if err != nil || len(items) == 0 {
			sleepCtx(ctx, 5*time.Second, wake)
			continue
		}
		failed := false
		for _, it := range items {
			if err := h.pushOne(ctx, a, client, &it.Doc); err != nil {
				failed = true
				break // in order: retry the head first
			}
		}
		if failed {
			sleepCtx(ctx, bo.next(), nil)
		} else {
			bo.reset()
		}
	}
}

func (h *Hub) pushOne(ctx context.Context, a *Agency, client *http.Client, d *record.Document) error {
	raw, err := h.envelopeBytes(ctx, d)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", a.PushURL, bytes.NewReader(raw))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set(DocIDHeader, d.ID)
	resp, err := client.Do(req)
	if err == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			err = fmt.Errorf("push endpoint answered %d", resp.StatusCode)
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	h.metrics.pushes().count(a.OrganID, err == nil)
	why := ""
	if err != nil {
		why = err.Error()
		if h.workers.logs.allow("push:"+a.OrganID, time.Now()) {
			h.log.Warn("push failed", "organ_id", a.OrganID, LogDocID, d.ID, "err", err)
		}
	}
	if rerr := h.db.PushResult(context.WithoutCancel(ctx), d.ID, a.OrganID, err == nil, why, h.now()); rerr != nil {
		return rerr
	}
	if err == nil && d.Via != "" {
		h.wakeReports()
	}
	return err
}
