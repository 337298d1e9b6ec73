package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the tests run this binary's main as a child process.
func TestMain(m *testing.M) {
	if os.Getenv("ANCORE_TEST_MAIN") == "1" {
		os.Args = append([]string{"ancore"}, strings.Fields(os.Getenv("ANCORE_TEST_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// command runs ancore on loopback without LAN discovery, so that tests
// running side by side stay apart.
func command(args ...string) *exec.Cmd {
	args = append([]string{"--no-mdns", "--listen", "/ip4/127.0.0.1/tcp/0"}, args...)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ANCORE_TEST_MAIN=1", "ANCORE_TEST_ARGS="+strings.Join(args, " "))
	return cmd
}

func TestRunsUntilTerminated(t *testing.T) {
	data := filepath.Join(t.TempDir(), "node")
	cmd := command("--data", data)
	// Without a display even a build with the window runs headless.
	cmd.Env = append(cmd.Env, "DISPLAY=", "WAYLAND_DISPLAY=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen []string
	deadline := time.After(30 * time.Second)
	for ready := false; !ready; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("exited before it was ready; printed %q", seen)
			}
			seen = append(seen, l)
			ready = strings.Contains(l, "Ctrl-C")
		case <-deadline:
			t.Fatalf("not ready after 30 s; printed %q", seen)
		}
	}
	text := strings.Join(seen, "\n")
	for _, want := range []string{"user:", "device:", "data:   " + data, "addr:   /ip4/127.0.0.1/tcp/", "LAN discovery is off",
		"running headless", "Open Ancore in a browser: http://127.0.0.1:", "run ancore open --data " + data} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if _, err := os.Stat(filepath.Join(data, "ancore.db")); err != nil {
		t.Errorf("no store: %v", err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range lines {
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
}

func TestHelpAndBadFlags(t *testing.T) {
	out, err := command("--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--data") || !strings.Contains(string(out), "ANCORE_DATA") ||
		!strings.Contains(string(out), "ancore open") {
		t.Errorf("--help: %v\n%s", err, out)
	}
	open := command()
	open.Env = append(open.Env, "ANCORE_TEST_ARGS=open --help")
	out, err = open.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--print") || !strings.Contains(string(out), "ANCORE_DATA") {
		t.Errorf("open --help: %v\n%s", err, out)
	}
	out, err = command("--no-such-flag").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no-such-flag") {
		t.Errorf("an unknown flag was accepted: %v\n%s", err, out)
	}
}

func TestLockedDataFolder(t *testing.T) {
	data := t.TempDir()
	first := command("--data", data)
	out, err := first.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { first.Process.Kill(); first.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() && !strings.Contains(sc.Text(), "Ctrl-C") {
	}
	got, err := command("--data", data).CombinedOutput()
	if err == nil || !strings.Contains(string(got), "locked") {
		t.Fatalf("second node on one data folder: %v\n%s", err, got)
	}
}
