package pipeline

import (
	"syscall"
	"testing"
	"time"
	"github.com/ancore/ancore/crdt/crdttest"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkProfPipe(b *testing.B) {
	a := crdttest.NewAuthor(b, "bench", "ingest")
	opened := a.Posts(b, ingestOps, ingestText)
	raws := make([][]byte, len(opened))
	for i, o := range opened {
		raws[i] = o.Encoded()
	}
	b.ResetTimer()
	c0 := cpu()
	v := measure(b, func() { verifyAll(opened) })
	c1 := cpu()
	b.ReportMetric(ingestOps/v, "verify/s")
	b.ReportMetric((c1-c0).Seconds()/v, "verify-cores-busy")
	c0 = cpu()
	s := measure(b, func() { ingestAll(b, a, raws) })
	c1 = cpu()
	b.ReportMetric(ingestOps/s, "ops/s")
	b.ReportMetric((c1-c0).Seconds()/s, "cores-busy")
}
