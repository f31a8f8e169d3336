package input

import (
	"errors"
	"fmt"
	"testing"
)

func TestDidYouMean(t *testing.T) {
	valid := []string{"country", "to", "from", "q"}
	tests := []struct{ got, want string }{
		{"contry", `"country"`},
		{"Country", `"country"`},
		{"countries", `"country"`},
		{"tp", `"to"`},
		{"xyz", ""},
		{"fromm", `"from"`},
	}
	for _, test := range tests {
		got := DidYouMean(test.got, valid)
		want := ""
		if test.want != "" {
			want = fmt.Sprintf(" (did you mean %s?)", test.want)
		}
		if got != want {
			t.Errorf("DidYouMean(%q) = %q, want %q", test.got, got, want)
		}
	}
}

// TestCheckNames: an unknown name is refused with the closest known one, or
// the alias it stands for, and the error names the parameter at fault.
func TestCheckNames(t *testing.T) {
	known := []string{"country", "sector"}
	tests := []struct {
		given map[string]int
		want  string // "" = accepted
		param string
	}{
		{map[string]int{"country": 1}, "", ""},
		{map[string]int{"contry": 1}, `unknown parameter "contry" (did you mean "country"?); valid parameters are country, sector`, "contry"},
		{map[string]int{"nation": 1}, `unknown parameter "nation" (did you mean "country"?); valid parameters are country, sector`, "nation"},
		{map[string]int{"zzz": 1, "yyy": 1}, `unknown parameter "yyy" and 1 more; valid parameters are country, sector`, "yyy"},
	}
	for _, test := range tests {
		err := CheckNames(test.given, known, map[string]string{"nation": "country"}, "parameter")
		if test.want == "" {
			if err != nil {
				t.Errorf("CheckNames(%v) = %v, want nil", test.given, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Message != test.want || e.Param != test.param {
			t.Errorf("CheckNames(%v) = %#v, want %q on %q", test.given, err, test.want, test.param)
		}
	}
}
