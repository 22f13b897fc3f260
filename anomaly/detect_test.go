package anomaly_test

import (
	"cmp"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"nineten.dev/anomaly"
)

var day = time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)

// at is a time of the day under test, in Unix milliseconds.
func at(d time.Duration) int64 { return day.Add(d).UnixMilli() }

// month is a listening history being built for a test.
type month struct{ ls []anomaly.Listen }

// old is when established accounts were made.
var old = day.AddDate(-1, 0, 0).UnixMilli()

func (m *month) add(l anomaly.Listen) {
	if l.Since == 0 {
		l.Since = old
	}
	if l.TrackMS == 0 {
		l.TrackMS = 200_000
	}
	if l.Artist == 0 {
		l.Artist = l.Track%50 + 1
	}
	if l.Network == "" {
		l.Network = fmt.Sprintf("home-%d", l.Listener)
	}
	if l.Device == "" {
		l.Device = fmt.Sprintf("phone-%d", l.Listener)
	}
	m.ls = append(m.ls, l)
}

// play adds back-to-back full plays of tracks from start; it returns when
// the last one ends.
func (m *month) play(listener int64, start int64, tracks ...int64) int64 {
	for _, t := range tracks {
		m.add(anomaly.Listen{Listener: listener, Track: t, Start: start, HeardMS: 200_000})
		start += 201_000
	}
	return start
}

// seq is tracks from..from+n-1.
func seq(from, n int64) []int64 {
	var out []int64
	for i := range n {
		out = append(out, from+i)
	}
	return out
}

func (m *month) detect(t *testing.T) []anomaly.Flag {
	t.Helper()
	slices.SortStableFunc(m.ls, func(a, b anomaly.Listen) int { return cmp.Compare(a.Start, b.Start) })
	for i := range m.ls {
		m.ls[i].ID = int64(i + 1)
	}
	return anomaly.Detect(m.ls, day, anomaly.Default)
}

// only asserts that the flags are exactly one of rule about subject,
// holding the listens of the listeners named (on the day), with evidence
// and a summary that names no account, network or device.
func only(t *testing.T, m *month, flags []anomaly.Flag, rule, subject string, evidence map[string]int64, listeners ...int64) {
	t.Helper()
	var mine []anomaly.Flag
	for _, f := range flags {
		if f.Rule == rule {
			mine = append(mine, f)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("want one %s flag, got %+v", rule, flags)
	}
	f := mine[0]
	if f.Subject != subject || f.Score < 1 || f.Score > 100 {
		t.Errorf("flag: %+v; want subject %q and a score in 1–100", f, subject)
	}
	for k, v := range evidence {
		if f.Evidence[k] != v {
			t.Errorf("evidence %s = %d, want %d (all: %v)", k, f.Evidence[k], v, f.Evidence)
		}
	}
	var want []int64
	for _, l := range m.ls {
		if slices.Contains(listeners, l.Listener) && l.Start >= day.UnixMilli() && l.Start < day.Add(24*time.Hour).UnixMilli() {
			want = append(want, l.ID)
		}
	}
	if !reflect.DeepEqual(f.Listens, want) {
		t.Errorf("flag holds %d listens, want those %d of listeners %v", len(f.Listens), len(want), listeners)
	}
	if strings.Contains(f.Summary, "home-") || strings.Contains(f.Summary, "phone-") || f.Summary == "" {
		t.Errorf("summary %q should say what happened without naming a network or device", f.Summary)
	}
}

func none(t *testing.T, flags []anomaly.Flag) {
	t.Helper()
	if len(flags) != 0 {
		t.Errorf("a legitimate pattern was flagged: %+v", flags)
	}
}

func TestDailySeconds(t *testing.T) {
	t.Run("bot: 21 hours in a day", func(t *testing.T) {
		m := &month{}
		m.play(1, at(time.Hour), seq(1, 378)...) // 378 × 200 s = 21 h
		only(t, m, m.detect(t), anomaly.RuleDailySeconds, "listener:1", map[string]int64{"heard_s": 75_600, "limit_s": 64_800}, 1)
	})
	t.Run("heavy listener: 15 hours, then sleep", func(t *testing.T) {
		m := &month{}
		m.play(1, at(8*time.Hour), seq(1, 270)...)
		none(t, m.detect(t))
	})
}

func TestParallelStreams(t *testing.T) {
	t.Run("three streams at once for three hours", func(t *testing.T) {
		m := &month{}
		for s := range int64(3) {
			m.play(1, at(10*time.Hour)+s*1000, seq(100*s+1, 54)...)
		}
		only(t, m, m.detect(t), anomaly.RuleParallel, "listener:1", map[string]int64{"heard_s": 3 * 54 * 200}, 1)
	})
	t.Run("a phone left playing for a few minutes", func(t *testing.T) {
		m := &month{}
		m.play(1, at(10*time.Hour), seq(1, 30)...)
		m.play(1, at(10*time.Hour+5*time.Minute), 77, 78)
		none(t, m.detect(t))
	})
}

func TestNoPauses(t *testing.T) {
	t.Run("bursts around the clock", func(t *testing.T) {
		m := &month{}
		for start := at(0); start < at(24*time.Hour); start += 90 * 60_000 { // 40 min on, 50 off
			m.play(1, start, seq(1, 12)...)
		}
		flags := m.detect(t)
		only(t, m, flags, anomaly.RuleNoPauses, "listener:1", map[string]int64{"active_hours": 24}, 1)
		for _, f := range flags {
			if f.Rule == anomaly.RuleDailySeconds {
				t.Errorf("16 h of listening is not more than a person can hear: %+v", f)
			}
		}
	})
	t.Run("night owl", func(t *testing.T) {
		m := &month{}
		m.play(1, at(0), seq(1, 100)...)             // midnight to about 5:30
		m.play(1, at(20*time.Hour), seq(200, 70)...) // 20:00 to midnight
		none(t, m.detect(t))
	})
}

func TestSharedNetwork(t *testing.T) {
	t.Run("a farm behind one address", func(t *testing.T) {
		m := &month{}
		var farm []int64
		for a := int64(1); a <= 12; a++ {
			farm = append(farm, a)
			for i := range int64(20) {
				m.add(anomaly.Listen{Listener: a, Track: 1000 + i%3, Artist: 7 + i%2, Start: at(time.Duration(a)*time.Hour + time.Duration(i)*201*time.Second), HeardMS: 200_000, Network: "farm"})
			}
		}
		only(t, m, m.detect(t), anomaly.RuleSharedNetwork, "network:farm", map[string]int64{"accounts": 12, "network_accounts": 12, "listens": 240}, farm...)
	})
	t.Run("a campus and a household", func(t *testing.T) {
		m := &month{}
		for a := int64(1); a <= 40; a++ {
			for i := range int64(20) { // each their own music
				m.add(anomaly.Listen{Listener: a, Track: a*100 + i, Artist: a*10 + i%5, Start: at(time.Duration(a)*10*time.Minute + time.Duration(i)*201*time.Second), HeardMS: 200_000, Network: "campus"})
			}
		}
		for a := int64(50); a < 54; a++ { // a family: the same few artists
			for i := range int64(20) {
				m.add(anomaly.Listen{Listener: a, Track: 9000 + i%3, Artist: 700, Start: at(time.Duration(a-40)*time.Hour + time.Duration(i)*201*time.Second), HeardMS: 200_000, Network: "home"})
			}
		}
		none(t, m.detect(t))
	})
}

func TestSharedDevice(t *testing.T) {
	t.Run("accounts cycled in one browser over the week", func(t *testing.T) {
		m := &month{}
		for a := int64(1); a <= 6; a++ {
			when := day.Add(-time.Duration(a) * 24 * time.Hour) // one account a day before
			if a > 3 {
				when = day // three on the day
			}
			m.add(anomaly.Listen{Listener: a, Track: a, Start: when.Add(time.Duration(a) * time.Hour).UnixMilli(), HeardMS: 200_000, Device: "browser"})
		}
		only(t, m, m.detect(t), anomaly.RuleSharedDevice, "device:browser", map[string]int64{"accounts_week": 6, "accounts_day": 3}, 4, 5, 6)
	})
	t.Run("a family tablet", func(t *testing.T) {
		m := &month{}
		for d := range 7 {
			for a := int64(1); a <= 3; a++ {
				m.add(anomaly.Listen{Listener: a, Track: a, Start: day.Add(-time.Duration(d)*24*time.Hour + time.Duration(a)*time.Hour).UnixMilli(), HeardMS: 200_000, Device: "tablet"})
			}
		}
		none(t, m.detect(t))
	})
}

func TestThresholdCluster(t *testing.T) {
	t.Run("31 seconds of each track", func(t *testing.T) {
		m := &month{}
		for i := range int64(40) {
			m.add(anomaly.Listen{Listener: 1, Track: i, Start: at(9*time.Hour + time.Duration(i)*32*time.Second), HeardMS: 31_000})
		}
		only(t, m, m.detect(t), anomaly.RuleThresholdCluster, "listener:1", map[string]int64{"short": 40, "listens": 40, "share_pct": 100}, 1)
	})
	t.Run("a listener sampling new music", func(t *testing.T) {
		m := &month{}
		start := at(9 * time.Hour)
		for i := range int64(40) {
			heard := 30_000 + (i*37_000)%170_000 // skips at all sorts of moments
			m.add(anomaly.Listen{Listener: 1, Track: i, Start: start, HeardMS: heard})
			start += heard + 1000
		}
		none(t, m.detect(t))
	})
	t.Run("short tracks played in full", func(t *testing.T) {
		m := &month{}
		for i := range int64(40) {
			m.add(anomaly.Listen{Listener: 1, Track: i, TrackMS: 35_000, Start: at(9*time.Hour + time.Duration(i)*36*time.Second), HeardMS: 35_000})
		}
		none(t, m.detect(t))
	})
}

func TestLockstep(t *testing.T) {
	t.Run("four accounts driven together", func(t *testing.T) {
		m := &month{}
		for a := int64(1); a <= 4; a++ {
			m.play(a, at(14*time.Hour)+a*3000, seq(1, 20)...)
		}
		only(t, m, m.detect(t), anomaly.RuleLockstep, "group:1", map[string]int64{"accounts": 4}, 1, 2, 3, 4)
	})
	t.Run("four fans of one playlist, at their own hours", func(t *testing.T) {
		m := &month{}
		for a := int64(1); a <= 4; a++ {
			m.play(a, at(time.Duration(a)*3*time.Hour), seq(1, 20)...)
		}
		none(t, m.detect(t))
	})
	t.Run("two fans looping one hit at the same time", func(t *testing.T) {
		m := &month{}
		for a := int64(1); a <= 3; a++ {
			loop := make([]int64, 40)
			for i := range loop {
				loop[i] = 5
			}
			m.play(a, at(20*time.Hour)+a*1000, loop...)
		}
		for _, f := range m.detect(t) {
			if f.Rule == anomaly.RuleLockstep {
				t.Errorf("a loop is not a sequence: %+v", f)
			}
		}
	})
}

func TestNewAccountSpike(t *testing.T) {
	// Artist 7 has a listen or two a day from its established fans.
	base := func() *month {
		m := &month{}
		for d := 1; d <= 7; d++ {
			m.add(anomaly.Listen{Listener: 100, Track: 70, Artist: 7, Start: day.Add(-time.Duration(d) * 24 * time.Hour).UnixMilli(), HeardMS: 200_000})
		}
		return m
	}
	t.Run("ten accounts made this week, all for one artist", func(t *testing.T) {
		m := base()
		var farm []int64
		for a := int64(1); a <= 10; a++ {
			farm = append(farm, a)
			for i := range int64(5) {
				m.add(anomaly.Listen{Listener: a, Since: day.Add(-48 * time.Hour).UnixMilli(), Track: 70 + i%2, Artist: 7,
					Start: at(time.Duration(a)*time.Hour + time.Duration(i)*201*time.Second), HeardMS: 200_000})
			}
		}
		only(t, m, m.detect(t), anomaly.RuleNewAccountSpike, "artist:7", map[string]int64{"new_listens": 50, "new_accounts": 10, "usual_per_day": 1, "artist": 7}, farm...)
	})
	t.Run("the week before pushed by another farm, whose plays are held", func(t *testing.T) {
		m := base()
		for d := 1; d <= 7; d++ {
			for i := range 200 {
				m.add(anomaly.Listen{Listener: 200 + int64(i%5), Track: 70, Artist: 7, Held: true,
					Start: day.Add(-time.Duration(d)*24*time.Hour + time.Duration(i)*time.Minute).UnixMilli(), HeardMS: 60_000})
			}
		}
		var farm []int64
		for a := int64(1); a <= 10; a++ {
			farm = append(farm, a)
			for i := range int64(5) {
				m.add(anomaly.Listen{Listener: a, Since: day.Add(-48 * time.Hour).UnixMilli(), Track: 70 + i%2, Artist: 7,
					Start: at(time.Duration(a)*time.Hour + time.Duration(i)*201*time.Second), HeardMS: 200_000})
			}
		}
		only(t, m, m.detect(t), anomaly.RuleNewAccountSpike, "artist:7", map[string]int64{"usual_per_day": 1}, farm...)
	})
	t.Run("on a day another farm loops the artist", func(t *testing.T) {
		m := base()
		for a := int64(300); a < 303; a++ {
			loop := make([]int64, 60)
			for i := range loop {
				loop[i] = 70
			}
			m.play(a, at(time.Duration(a-290)*time.Hour), loop...)
		}
		for i := range m.ls {
			if m.ls[i].Track == 70 {
				m.ls[i].Artist = 7
			}
		}
		var farm []int64
		for a := int64(1); a <= 10; a++ {
			farm = append(farm, a)
			for i := range int64(5) {
				m.add(anomaly.Listen{Listener: a, Since: day.Add(-48 * time.Hour).UnixMilli(), Track: 71 + i%2, Artist: 7,
					Start: at(time.Duration(a)*time.Hour + time.Duration(i)*201*time.Second), HeardMS: 200_000})
			}
		}
		only(t, m, m.detect(t), anomaly.RuleNewAccountSpike, "artist:7", map[string]int64{"new_listens": 50}, farm...)
	})
	t.Run("the same day from established fans", func(t *testing.T) {
		m := base()
		for a := int64(1); a <= 10; a++ {
			for i := range int64(5) {
				m.add(anomaly.Listen{Listener: a, Track: 70 + i%2, Artist: 7, Start: at(time.Duration(a)*time.Hour + time.Duration(i)*201*time.Second), HeardMS: 200_000})
			}
		}
		none(t, m.detect(t))
	})
}

func TestTrackLoop(t *testing.T) {
	loop := func(n int) []int64 {
		out := make([]int64, n)
		for i := range out {
			out[i] = 5
		}
		return out
	}
	t.Run("three accounts looping one track", func(t *testing.T) {
		m := &month{}
		for a := int64(1); a <= 3; a++ {
			m.play(a, at(time.Duration(a)*4*time.Hour), loop(60)...)
		}
		only(t, m, m.detect(t), anomaly.RuleTrackLoop, "track:5", map[string]int64{"accounts": 3, "plays": 180, "track": 5}, 1, 2, 3)
	})
	t.Run("a loop that began the evening before", func(t *testing.T) {
		m := &month{}
		m.play(1, at(-10*time.Hour), loop(300)...) // 14:00 the day before to about 06:40
		only(t, m, m.detect(t), anomaly.RuleTrackLoop, "listener:1", map[string]int64{"plays": 300}, 1)
	})
	t.Run("a repeat-one fan", func(t *testing.T) {
		m := &month{}
		m.play(1, at(18*time.Hour), loop(60)...)
		none(t, m.detect(t))
	})
}

// The same listens give the same flags, whatever their order among equal
// start times, and a day's flags hold only that day's listens.
func TestDetectIsDeterministic(t *testing.T) {
	m := &month{}
	for a := int64(1); a <= 4; a++ {
		m.play(a, at(14*time.Hour)+a*3000, seq(1, 20)...)
		m.play(a+10, at(-20*time.Hour), seq(1, 378)...)
	}
	first := m.detect(t)
	for range 5 {
		if again := anomaly.Detect(m.ls, day, anomaly.Default); !reflect.DeepEqual(first, again) {
			t.Fatalf("two runs differ:\n%+v\n%+v", first, again)
		}
	}
	for _, f := range first {
		for _, id := range f.Listens {
			if l := m.ls[id-1]; l.Start < day.UnixMilli() {
				t.Errorf("flag %s holds a listen of the day before: %+v", f.Rule, l)
			}
		}
	}
}
