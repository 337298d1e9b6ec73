package relayload

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ancore/ancore/relay/relaytest"
	"github.com/jackc/pgx/v5"
)

// relayProc is a running ancore-relay process.
type relayProc struct{ *relaytest.Proc }

func (p relayProc) pid() int { return p.Cmd.Process.Pid }

// metrics returns the relay's Prometheus series whose names start with
// one of prefixes, as "name value" lines.
func (p relayProc) metrics(prefixes ...string) ([]string, error) {
	resp, err := http.Get(p.Base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []string
	lines := bufio.NewScanner(resp.Body)
	for lines.Scan() {
		line := lines.Text()
		for _, pre := range prefixes {
			if strings.HasPrefix(line, pre) {
				out = append(out, line)
			}
		}
	}
	return out, lines.Err()
}

// clockTick is the unit of /proc/PID/stat's CPU times (USER_HZ, which
// Linux fixes at 100 for user space).
const clockTick = 10 * time.Millisecond

// procCPU returns the user plus system CPU time process pid has used.
func procCPU(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; the fields after it
	// start with the state (field 3), so utime (14) and stime (15) are
	// the 12th and 13th.
	i := bytes.LastIndexByte(stat, ')')
	fields := strings.Fields(string(stat[i+1:]))
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: %q %q", pid, fields[11], fields[12])
	}
	return time.Duration(utime+stime) * clockTick, nil
}

// procRunqueueWait returns how long the threads of process pid have
// waited on a run queue, ready to run but not running (schedstat's second
// field, summed over /proc/PID/task): on a shared machine, the latency
// that other work adds.
func procRunqueueWait(pid int) (time.Duration, error) {
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(stats) == 0 {
		return 0, fmt.Errorf("schedstat of %d: %v", pid, err)
	}
	var sum time.Duration
	for _, name := range stats {
		b, err := os.ReadFile(name)
		if err != nil {
			continue // the thread ended
		}
		fields := strings.Fields(string(b))
		if len(fields) < 2 {
			return 0, fmt.Errorf("%s: %q", name, b)
		}
		ns, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		sum += time.Duration(ns)
	}
	return sum, nil
}

// procMemory returns process pid's resident set size and its peak
// (VmRSS, VmHWM) in bytes.
func procMemory(pid int) (rss, peak int64, err error) {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.Lines(string(status)) {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("/proc/%d/status %s: %w", pid, name, err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	return rss, peak, nil
}

// usageSample is one reading of the processes the run measures.
type usageSample struct {
	at       time.Time
	relayCPU time.Duration
	relayRSS int64
	pgCPU    time.Duration // the PostgreSQL backends serving the relay's database
	selfCPU  time.Duration // this process: the members
	// Time spent waiting for a CPU by the relay's and this process's
	// threads.
	relayWait, selfWait time.Duration
}

// usageMeter reads the relay's CPU and memory, its database backends'
// CPU and this process's CPU once a second.
type usageMeter struct {
	relay int
	db    *pgx.Conn

	mu      sync.Mutex
	samples []usageSample
	pgBase  map[int]time.Duration // CPU of each backend when first seen
	pgLast  map[int]time.Duration
}

func newUsageMeter(ctx context.Context, relayPID int, dsn string) (*usageMeter, error) {
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("usage meter: %w", err)
	}
	return &usageMeter{relay: relayPID, db: db, pgBase: map[int]time.Duration{}, pgLast: map[int]time.Duration{}}, nil
}

// run samples until ctx ends.
func (u *usageMeter) run(ctx context.Context) {
	defer u.db.Close(context.WithoutCancel(ctx))
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		u.sample(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (u *usageMeter) sample(ctx context.Context) {
	s := usageSample{at: time.Now()}
	var err error
	if s.relayCPU, err = procCPU(u.relay); err != nil {
		return
	}
	if s.relayRSS, _, err = procMemory(u.relay); err != nil {
		return
	}
	s.selfCPU, _ = procCPU(os.Getpid())
	s.relayWait, _ = procRunqueueWait(u.relay)
	s.selfWait, _ = procRunqueueWait(os.Getpid())
	pids, err := u.backends(ctx)
	u.mu.Lock()
	defer u.mu.Unlock()
	if err == nil {
		// A backend first seen after the first sample started during the
		// run, so all of its CPU time counts.
		first := len(u.samples) == 0
		for _, pid := range pids {
			cpu, err := procCPU(pid)
			if err != nil {
				continue
			}
			if _, seen := u.pgBase[pid]; !seen {
				u.pgBase[pid] = 0
				if first {
					u.pgBase[pid] = cpu
				}
			}
			u.pgLast[pid] = cpu
		}
	}
	for pid, last := range u.pgLast {
		s.pgCPU += last - u.pgBase[pid]
	}
	u.samples = append(u.samples, s)
}

// backends lists the PostgreSQL processes connected to the relay's
// database, leaving out the meter's own.
func (u *usageMeter) backends(ctx context.Context) ([]int, error) {
	rows, err := u.db.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int])
}

// usageSummary is what the meter saw between two instants.
type usageSummary struct {
	relayCores, relayPeakCores float64 // average, and highest over 10 s
	relayRSSStart, relayRSSMax int64
	relayRSSEnd                int64
	pgCores, selfCores         float64
	relayWait, selfWait        float64 // run-queue wait per second of the run
}

// summary covers the samples taken between from and to.
func (u *usageMeter) summary(from, to time.Time) usageSummary {
	u.mu.Lock()
	defer u.mu.Unlock()
	var in []usageSample
	for _, s := range u.samples {
		if !s.at.Before(from) && !s.at.After(to) {
			in = append(in, s)
		}
	}
	var sum usageSummary
	if len(in) < 2 {
		return sum
	}
	cores := func(cpu time.Duration, span time.Duration) float64 { return cpu.Seconds() / span.Seconds() }
	first, last := in[0], in[len(in)-1]
	span := last.at.Sub(first.at)
	sum.relayCores = cores(last.relayCPU-first.relayCPU, span)
	sum.pgCores = cores(last.pgCPU-first.pgCPU, span)
	sum.selfCores = cores(last.selfCPU-first.selfCPU, span)
	sum.relayWait = cores(last.relayWait-first.relayWait, span)
	sum.selfWait = cores(last.selfWait-first.selfWait, span)
	sum.relayRSSStart, sum.relayRSSEnd = first.relayRSS, last.relayRSS
	const window = 10
	for i, s := range in {
		sum.relayRSSMax = max(sum.relayRSSMax, s.relayRSS)
		if i >= window {
			w := in[i-window]
			sum.relayPeakCores = max(sum.relayPeakCores, cores(s.relayCPU-w.relayCPU, s.at.Sub(w.at)))
		}
	}
	return sum
}
