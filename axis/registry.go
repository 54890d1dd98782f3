package axis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/axis-h40/axis/envelope"
)

// The agencies registered over VDXP (registerAgency, deleteAgency by an
// admin system): kept in the store's registry, added to the directory at
// Open and when registered, beside the configured ones (which they may not
// replace). Each change is an admin event in the store's hash chain naming
// the system that made it ("vdxp:<system id>"), written with the record:
// who changed the directory is audited like any administrator's action.

// registered is an agency registered over VDXP, kept in the store.
type registered struct {
	Agency
	Mail, Mobile, Fax string
	Deleted           bool
	Modified          time.Time
}

const registryAgencyPrefix = "vdxp-agency/"

// loadRegistered adds the agencies registered over VDXP to the directory.
func (h *Hub) loadRegistered(ctx context.Context) error {
	recs, err := h.db.Registry(ctx, registryAgencyPrefix)
	if err != nil {
		return err
	}
	for _, v := range recs {
		var r registered
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("axis: registered agency: %w", err)
		}
		if !r.Deleted {
			a := r.Agency
			h.dir.register(&a) // behind a configured agency of the same code, if any (directory.go)
		}
	}
	return nil
}

// vdxpBy names a VDXP system in the events it causes.
func vdxpBy(systemID string) string { return "vdxp:" + systemID }

func (h *Hub) vdxpRegister(req *http.Request, systemID string) error {
	var in struct {
		ID     string `json:"id"`
		PCode  string `json:"pcode"`
		Code   string `json:"code"`
		Name   string `json:"name"`
		Mail   string `json:"mail"`
		Mobile string `json:"mobile"`
		Fax    string `json:"fax"`
	}
	body, err := ReadBody(req.Body, req.ContentLength, 1<<20)
	if err != nil || json.Unmarshal(body, &in) != nil {
		return Problemf(ErrBadRequest, "registerAgency: body is not the JSON {id,pcode,code,name,mail,mobile,fax}")
	}
	if _, err := envelope.ParseOrganID(in.Code); err != nil {
		return Problemf(ErrBadRequest, "registerAgency: code: %v", err)
	}
	if in.Name == "" {
		return Problemf(ErrBadRequest, "registerAgency: name is required")
	}
	if h.dir.configuredAgency(in.Code) { // the config as reloaded, not as at start
		return Problemf(ErrConflict, "%s is in the hub's configured directory", in.Code)
	}
	r := registered{Agency: Agency{OrganID: in.Code, Name: in.Name, Parent: in.PCode}, Mail: in.Mail, Mobile: in.Mobile, Fax: in.Fax, Modified: h.now().UTC()}
	b, _ := json.Marshal(r)
	if err := h.db.AdminSetRegistry(req.Context(), vdxpBy(systemID), "register agency "+in.Code, registryAgencyPrefix+in.Code, b, h.now()); err != nil {
		return err
	}
	a := r.Agency
	h.dir.register(&a)
	h.log.Info("vdxp: agency registered", "organ_id", in.Code, "name", in.Name, "system", systemID)
	return nil
}

func (h *Hub) vdxpDelete(ctx context.Context, systemID, code string) error {
	if code == "" {
		return Problemf(ErrBadRequest, "AgencyCode is required")
	}
	recs, err := h.db.Registry(ctx, registryAgencyPrefix+code)
	if err != nil {
		return err
	}
	v, ok := recs[registryAgencyPrefix+code]
	if !ok {
		if _, cfg := h.dir.Agency(code); cfg {
			return Problemf(ErrForbidden, "%s is in the hub's configured directory; remove it there", code)
		}
		return ErrNotFound
	}
	var r registered
	if err := json.Unmarshal(v, &r); err != nil {
		return err
	}
	r.Deleted, r.Modified = true, h.now().UTC()
	b, _ := json.Marshal(r)
	if err := h.db.AdminSetRegistry(ctx, vdxpBy(systemID), "delete agency "+code, registryAgencyPrefix+code, b, h.now()); err != nil {
		return err
	}
	h.dir.unregister(code)
	h.log.Info("vdxp: agency deleted", "organ_id", code, "system", systemID)
	return nil
}
