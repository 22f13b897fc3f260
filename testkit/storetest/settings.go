package storetest

import (
	"sync"

	"nineten.dev"
)

var settingTests = []test{
	// The first value set wins, also when processes race to set it.
	{"Settings/FirstValueWins", func(e *env) {
		_, err := e.s.Setting(e.ctx, "secret")
		e.wantKind(err, nineten.KindNotFound)
		values := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
		got := make([]string, len(values))
		var wg sync.WaitGroup
		for i, v := range values {
			wg.Go(func() {
				stored, err := e.s.InitSetting(e.ctx, "secret", v)
				if err != nil {
					e.Errorf("InitSetting %s: %v", v, err)
				}
				got[i] = stored
			})
		}
		wg.Wait()
		stored, err := e.s.Setting(e.ctx, "secret")
		e.ok(err)
		for i, g := range got {
			if g != stored {
				e.Errorf("InitSetting %s returned %q, but %q is stored", values[i], g, stored)
			}
		}
		again, err := e.s.InitSetting(e.ctx, "secret", "later")
		e.ok(err)
		e.same("value after a later InitSetting", stored, again)
	}},
}
