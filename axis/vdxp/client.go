package vdxp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf16"
)

// Response is the envelope of every JSON answer.
type Response struct {
	Status    string          `json:"status"`
	ErrorCode string          `json:"ErrorCode"`
	ErrorDesc string          `json:"ErrorDesc"`
	DocID     string          `json:"DocId,omitempty"`
	Data      json.RawMessage `json:"data,omitempty"`
	Count     *int            `json:"count,omitempty"`
}

// RemoteError is an answer whose ErrorCode is not "0".
type RemoteError struct {
	Op, Code, Desc string
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("vdxp %s: ErrorCode %s: %s", e.Op, e.Code, e.Desc)
}

// Item is one entry of getReceivedEdocList.
type Item struct {
	DocID       string `json:"docId"`
	ServiceType string `json:"serviceType"`
	MessageType string `json:"messageType"`
	CreatedTime string `json:"created_time"`
	UpdatedTime string `json:"updated_time"`
	From        string `json:"from"`
	To          string `json:"to"`
	Status      string `json:"status"`
	StatusDesc  string `json:"status_desc"`
}

// SentItem is one row of getSentEdocList: a document this system sent,
// as one recipient (ToCode) has it. ReceiveStatus is the recipient's
// state; the national SDK says done, fail or processing (an axis hub says
// its own delivery states), and ReceivedTime is "dd/MM/yyyy HH:mm:ss" in
// Asia/Ho_Chi_Minh, empty while not received.
type SentItem struct {
	SenderDocID       string `json:"senderDocId"`
	ReceiverDocID     string `json:"receiverDocId"`
	FromCode          string `json:"fromCode"`
	ToCode            string `json:"toCode"`
	SendStatus        string `json:"sendStatus"`
	SendStatusDesc    string `json:"sendStatusDesc"`
	ReceiveStatus     string `json:"receiveStatus"`
	ReceiveStatusDesc string `json:"receiveStatusDesc"`
	Title             string `json:"title"`
	Notation          string `json:"notation"`
	SentTime          string `json:"sentTime"`
	ReceivedTime      string `json:"receivedTime"`
	ServiceType       string `json:"serviceType"`
	MessageType       string `json:"messageType"`
}

// Client speaks VDXP to one endpoint as one system, exactly as the SDK does.
type Client struct {
	BaseURL  string // the endpoint; the operation is appended after a "/"
	SystemID string
	Secret   string
	HTTP     *http.Client
	Now      func() time.Time
}

// Do calls op with params (in order) and body, and decodes the JSON answer.
// An answer with ErrorCode other than "0" is a *RemoteError (the response
// is returned too: sendEdoc carries DocId even then).
func (c *Client) Do(ctx context.Context, method, op string, params []Param, body []byte, contentType string) (*Response, error) {
	raw, err := c.do(ctx, method, op, params, body, contentType)
	if err != nil {
		return nil, err
	}
	var r Response
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("vdxp %s: answer is not JSON: %v", op, err)
	}
	if r.ErrorCode != "0" {
		return &r, &RemoteError{Op: op, Code: r.ErrorCode, Desc: r.ErrorDesc}
	}
	return &r, nil
}

func (c *Client) do(ctx context.Context, method, op string, params []Param, body []byte, contentType string) ([]byte, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+"/"+op, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = Sign(c.SystemID, c.Secret, Timestamp(now().In(Zone)), contentType, params)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("vdxp %s: HTTP %d", op, resp.StatusCode)
	}
	return b, nil
}

// SendEdoc posts an edXML envelope (messagetype "edoc" or "status") for
// from, optionally naming the recipients this hop is for, and returns the
// server's DocId.
func (c *Client) SendEdoc(ctx context.Context, raw []byte, from, messageType string, to []string) (string, error) {
	params := []Param{{"servicetype", "eDoc"}, {"messagetype", messageType}, {"hash-file", HashFile(raw)}, {"from", from}}
	if len(to) > 0 {
		codes := make([]map[string]string, len(to))
		for i, o := range to {
			codes[i] = map[string]string{"code": o}
		}
		b, _ := json.Marshal(codes)
		params = append(params, Param{"to", string(b)})
	}
	body := append(append([]byte{}, raw...), '\r', '\n')
	r, err := c.Do(ctx, http.MethodPost, "sendEdoc", params, body, "application/octet-stream")
	if err != nil {
		return "", err
	}
	if r.DocID == "" {
		return "", errors.New("vdxp sendEdoc: success without a DocId")
	}
	return r.DocID, nil
}

// ReceivedList lists what waits for this system (messageType "edoc" or
// "status").
func (c *Client) ReceivedList(ctx context.Context, messageType string) ([]Item, error) {
	r, err := c.Do(ctx, http.MethodPost, "getReceivedEdocList", []Param{{"servicetype", "eDoc"}, {"messagetype", messageType}}, nil, "application/json")
	if err != nil {
		return nil, err
	}
	var items []Item
	if len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, &items); err != nil {
			return nil, fmt.Errorf("vdxp getReceivedEdocList: data: %v", err)
		}
	}
	return items, nil
}

// SentList asks what became of the document the server knows as docID
// (the DocId its sendEdoc answered; messageType "edoc" or "status"): one
// row per recipient.
func (c *Client) SentList(ctx context.Context, messageType, docID string) ([]SentItem, error) {
	r, err := c.Do(ctx, http.MethodPost, "getSentEdocList", []Param{{"servicetype", "eDoc"}, {"messagetype", messageType}, {"docId", docID}}, nil, "application/json")
	if err != nil {
		return nil, err
	}
	var items []SentItem
	if len(r.Data) > 0 {
		if err := json.Unmarshal(r.Data, &items); err != nil {
			return nil, fmt.Errorf("vdxp getSentEdocList: data: %v", err)
		}
	}
	return items, nil
}

// GetEdoc fetches one envelope's bytes.
func (c *Client) GetEdoc(ctx context.Context, docID string) ([]byte, error) {
	r, err := c.Do(ctx, http.MethodPost, "getEdoc", []Param{{"docId", docID}}, nil, "application/json")
	if err != nil {
		return nil, err
	}
	var s string
	if err := json.Unmarshal(r.Data, &s); err != nil {
		return nil, fmt.Errorf("vdxp getEdoc: data is not a string: %v", err)
	}
	return base64.StdEncoding.DecodeString(s)
}

// UpdateStatus confirms a received document: "done", "fail" (with a
// reason) or "processing".
func (c *Client) UpdateStatus(ctx context.Context, docID, status, reason string) error {
	params := []Param{{"docId", docID}, {"status", status}}
	if reason != "" {
		params = append(params, Param{"description", reason})
	}
	_, err := c.Do(ctx, http.MethodPost, "updateStatus", params, nil, "application/json")
	return err
}

// ASCIIJSON rewrites every non-ASCII character of a JSON text as \uXXXX
// (surrogate pairs above U+FFFF): the SDK reads sendEdoc answers as
// US-ASCII. Outside strings JSON has no non-ASCII, so this is safe on the
// whole text.
func ASCIIJSON(b []byte) []byte {
	var out bytes.Buffer
	for _, r := range string(b) {
		switch {
		case r < 0x80:
			out.WriteByte(byte(r))
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.Bytes()
}
