package main

import "testing"

func TestPortRange(t *testing.T) {
	if lo, hi, err := portRange("49152-65535"); err != nil || lo != 49152 || hi != 65535 {
		t.Fatalf("portRange = %d, %d, %v", lo, hi, err)
	}
	for _, bad := range []string{"", "5000", "6000-5000", "0-10", "1-70000", "a-b"} {
		if _, _, err := portRange(bad); err == nil {
			t.Errorf("portRange(%q) accepted", bad)
		}
	}
}
