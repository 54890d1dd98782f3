package envelope

import (
	"fmt"
	"strings"
)

// Authority: a good signature says who signed, not that the signer may do
// what the envelope asks. The rules that need nothing but the verified
// message are here and run inside Verify, so they hold at every hub an
// envelope passes; the rule for status messages needs the document it
// answers and is the hub's (axis.Hub.checkAuthority).

// DocumentIDOrgan is the organ part of a DocumentId written
// "organ,yyyy/MM/dd,code" (the target's sender), or "" for another form.
func DocumentIDOrgan(id string) string {
	organ, _, ok := strings.Cut(id, ",")
	if !ok {
		return ""
	}
	return strings.TrimSpace(organ)
}

// Target is the earlier document this message answers or acts on: the
// first ResponseFor, or for a revoke, update or replace that names its
// target only in Bussiness (DocumentId, or ReplacementInfoList for a
// replacement) the organ and DocumentId written there. nil when it names
// none.
func (m *Message) Target() *ResponseFor {
	if len(m.ResponseFor) > 0 {
		return &m.ResponseFor[0]
	}
	if m.Business == nil || m.BusinessDocType() == BusinessNew {
		return nil
	}
	id := m.Business.DocumentID
	if len(m.Business.Replacements) > 0 {
		id = m.Business.Replacements[0].DocumentID
	}
	if organ := DocumentIDOrgan(id); organ != "" {
		return &ResponseFor{OrganID: organ, DocumentID: id}
	}
	return nil
}

// CheckAuthority applies the rule that needs no copy of the target: a
// revoke, update or replace may come only from the target's sender, so
// every organ it names as the target's (ResponseFor/OrganId, the organ part
// of ResponseFor/DocumentId, of Bussiness/DocumentId and of each
// ReplacementInfoList/DocumentId) must be From. The error wraps
// ErrNotEntitled and says which.
func (m *Message) CheckAuthority() error {
	if m.Kind != KindDocument {
		return nil
	}
	t := m.BusinessDocType()
	if t == BusinessNew {
		return nil
	}
	what := map[int]string{BusinessRevoke: "revoke", BusinessUpdate: "update", BusinessReplace: "replace"}[t]
	from := m.From.OrganID
	deny := func(field, organ string) error {
		return fmt.Errorf("%w: only a document's sender may %s it: %s names %s, From is %s", ErrNotEntitled, what, field, organ, from)
	}
	for i, r := range m.ResponseFor {
		if r.OrganID != from {
			return deny(fmt.Sprintf("ResponseFor[%d]/OrganId", i+1), r.OrganID)
		}
		if o := DocumentIDOrgan(r.DocumentID); o != "" && o != from {
			return deny(fmt.Sprintf("ResponseFor[%d]/DocumentId", i+1), o)
		}
	}
	if m.Business != nil {
		if o := DocumentIDOrgan(m.Business.DocumentID); o != "" && o != from {
			return deny("Bussiness/DocumentId", o)
		}
		for i, r := range m.Business.Replacements {
			if o := DocumentIDOrgan(r.DocumentID); o != "" && o != from {
				return deny(fmt.Sprintf("ReplacementInfoList[%d]/DocumentId", i+1), o)
			}
		}
	}
	return nil
}
