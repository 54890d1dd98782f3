package vdxp

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// SentList asks getSentEdocList with the three parameters the SDK sends,
// signed, and reads each recipient's row; a FAIL answer is a RemoteError.
func TestVDXPClientSentList(t *testing.T) {
	var got *Request
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, err := Verify(r.Header, secrets)
		if err != nil {
			t.Errorf("the server refuses the client's signature: %v", err)
		}
		got, path = req, r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		if req != nil && req.Get("docId") == "unknown" {
			_, _ = w.Write([]byte(`{"status":"FAIL","ErrorCode":"not_found","ErrorDesc":"no such document"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"OK","ErrorCode":"0","ErrorDesc":"","data":[` +
			`{"senderDocId":"s1","receiverDocId":"r1","fromCode":"000.07.35.H40","toCode":"000.00.00.G22","sendStatus":"done","receiveStatus":"done","receivedTime":"01/06/2026 10:15:00","messageType":"edoc","serviceType":"eDoc"},` +
			`{"senderDocId":"s1","receiverDocId":"r2","fromCode":"000.07.35.H40","toCode":"000.00.11.H41","sendStatus":"done","receiveStatus":"initial","receivedTime":""}]}`))
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL + "/", SystemID: exSystem, Secret: exSecret, Now: func() time.Time { return time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC) }}
	items, err := c.SentList(context.Background(), "status", "s1")
	if err != nil {
		t.Fatal(err)
	}
	if path != "/getSentEdocList" || got.Get("servicetype") != "eDoc" || got.Get("messagetype") != "status" || got.Get("docId") != "s1" {
		t.Fatalf("asked %s with %+v", path, got)
	}
	want := []SentItem{
		{SenderDocID: "s1", ReceiverDocID: "r1", FromCode: "000.07.35.H40", ToCode: "000.00.00.G22", SendStatus: "done", ReceiveStatus: "done",
			ReceivedTime: "01/06/2026 10:15:00", MessageType: "edoc", ServiceType: "eDoc"},
		{SenderDocID: "s1", ReceiverDocID: "r2", FromCode: "000.07.35.H40", ToCode: "000.00.11.H41", SendStatus: "done", ReceiveStatus: "initial"},
	}
	if len(items) != len(want) || items[0] != want[0] || items[1] != want[1] {
		t.Fatalf("rows\n got %+v\nwant %+v", items, want)
	}
	_, err = c.SentList(context.Background(), "edoc", "unknown")
	var re *RemoteError
	if !errors.As(err, &re) || re.Op != "getSentEdocList" || re.Code != "not_found" {
		t.Fatalf("a FAIL answer: %v", err)
	}
}
