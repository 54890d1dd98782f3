//go:build !cgo

package axis

import "fmt"

// openHSM: the PKCS#11 module is loaded through cgo, which this build lacks.
func (h *Hub) openHSM() error {
	return fmt.Errorf("axis: hub.pkcs11: this axisd was built without cgo (CGO_ENABLED=0) and cannot load the PKCS#11 module %s; build it with cgo", h.cfg.Hub.PKCS11.Module)
}
