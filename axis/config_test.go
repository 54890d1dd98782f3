package axis

import (
	"strings"
	"testing"
)

func TestAdminUsersChecked(t *testing.T) {
	hash := TokenHash("token-an")
	for _, tc := range []struct {
		users []AdminUser
		want  string // "" accepted
	}{
		{[]AdminUser{{Name: "Nguyễn Văn An", TokenSHA256: hash}, {Name: "Lê Thị Xem", TokenSHA256: TokenHash("x"), Role: RoleViewer}}, ""},
		{[]AdminUser{{TokenSHA256: hash}}, "admin.users[0]: name is required"},
		{[]AdminUser{{Name: "An", TokenSHA256: hash}, {Name: "An", TokenSHA256: TokenHash("y")}}, `admin.users[1]: name "An" is given twice`},
		{[]AdminUser{{Name: "An", TokenSHA256: "abc"}}, "admin.users[0] An: token_sha256 is not 64 hex digits"},
		{[]AdminUser{{Name: "An", TokenSHA256: hash, Role: "root"}}, `admin.users[0] An: role "root" (want admin or viewer)`},
	} {
		c, err := LoadConfig("../testdata/demo/axis-h40.yaml")
		if err != nil {
			t.Fatal(err)
		}
		c.Admin.Users = tc.users
		err = c.check()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: refused: %v", tc.users, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: %v, want %q", tc.users, err, tc.want)
		}
	}
	// A named viewer and an unnamed administrator, as callers.
	c, _ := LoadConfig("../testdata/demo/axis-h40.yaml")
	c.Admin.Users = []AdminUser{{Name: "Lê Thị Xem", TokenSHA256: TokenHash("token-xem"), Role: RoleViewer}}
	d := NewDirectory(c)
	if v, ok := d.Authenticate("token-xem"); !ok || !v.Admin || !v.Viewer || v.String() != "viewer:Lê Thị Xem" {
		t.Errorf("viewer %+v %v", v, ok)
	}
	if a, ok := d.Authenticate("demo-admin-token"); !ok || !a.Admin || a.Viewer || a.String() != "admin" {
		t.Errorf("unnamed admin %+v %v", a, ok)
	}
}
