package demo

import (
	"fmt"
	"math"
	"os"
	"testing"
	"time"
)

func TestScratch(t *testing.T) {
	total := time.Duration(0)
	start := time.Now()
	for i := range catalogue {
		a := &catalogue[i]
		for n := range a.tracks {
			s := songOf(a, &a.tracks[n])
			t0 := time.Now()
			m := s.render()
			var peak, sum float64
			for k := range m.l {
				peak = max(peak, math.Abs(float64(m.l[k])))
				sum += float64(m.l[k]) * float64(m.l[k])
			}
			t.Logf("%s: %v render %v peak %.3f rms %.3f", a.tracks[n].title, s.length, time.Since(t0), peak, math.Sqrt(sum/float64(len(m.l))))
			total += s.length
			{
				f, _ := os.Create(fmt.Sprintf("/tmp/scratch-%d%d.wav", i, n))
				writeWAV(f, m)
				f.Close()
			}
		}
	}
	t.Logf("total %v in %v", total, time.Since(start))
}
