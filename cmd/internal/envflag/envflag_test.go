package envflag

import (
	"testing"
	"time"
)

func TestListReplacesTheEnvironmentDefault(t *testing.T) {
	t.Setenv("ANCORE_TEST_LIST", " /ip4/1.2.3.4/tcp/1 , /ip4/5.6.7.8/tcp/2 ,")
	l := NewList("ANCORE_TEST_LIST")
	if got := l.String(); got != "/ip4/1.2.3.4/tcp/1,/ip4/5.6.7.8/tcp/2" {
		t.Fatalf("from the environment: %q", got)
	}
	l.Set("a")
	l.Set("b")
	if got := l.String(); got != "a,b" {
		t.Fatalf("after two flags: %q", got)
	}
}

func TestScalars(t *testing.T) {
	t.Setenv("ANCORE_TEST_S", "")
	if String("ANCORE_TEST_S", "def") != "def" {
		t.Fatal("empty variable must give the default")
	}
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "FALSE": false, "1": true, "yes": true} {
		t.Setenv("ANCORE_TEST_B", v)
		if Bool("ANCORE_TEST_B") != want {
			t.Errorf("Bool(%q) = %v", v, !want)
		}
	}
	t.Setenv("ANCORE_TEST_D", "90m")
	if d, err := Duration("ANCORE_TEST_D", time.Second); err != nil || d != 90*time.Minute {
		t.Fatalf("Duration = %v, %v", d, err)
	}
	t.Setenv("ANCORE_TEST_D", "ninety")
	if _, err := Duration("ANCORE_TEST_D", time.Second); err == nil {
		t.Fatal("a malformed duration must be an error")
	}
}
