package server

import "testing"

func TestIsMediaFile(t *testing.T) {
	for file, want := range map[string]bool{
		"hls/master.m3u8": true, "hls/preview.mp3": true, "hls/opus.m3u8": true, "hls/aac.m3u8": true,
		"hls/opus128/index.m3u8": true, "hls/aac96/init.mp4": true, "hls/opus64/seg0.m4s": true,
		"hls/aac192/seg123456.m4s": true, "waveform.json": true, "cover-600.jpg": true,
		"cover-200.jpg": true, "original": true,

		"": false, "hls/": false, "hls/x.m3u8": false, "hls/opus128/seg.m4s": false,
		"hls/opus128/seg1234567.m4s": false, "hls/opus128/seg1.ts": false, "hls/opus128/seg-1.m4s": false,
		"hls/128/seg1.m4s": false, "hls/opus/seg1.m4s": false, "hls/opus128x/seg1.m4s": false,
		"hls/../../9ten.db": false, "hls/opus128/../../../node.secret": false, "hls/opus128/seg1.m4s/x": false,
		"cover-300.jpg": false, "hls/opus128/1.m4s": false, "hls/opus128/seg1": false, "original/x": false, "../original": false, "HLS/master.m3u8": false,
	} {
		if got := isMediaFile(file); got != want {
			t.Errorf("isMediaFile(%q) = %v, want %v", file, got, want)
		}
	}
}
