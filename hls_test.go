package nineten_test

import (
	"slices"
	"strings"
	"testing"

	nineten "nineten.dev"
)

func TestParseMediaPlaylist(t *testing.T) {
	// As ffmpeg writes it for AAC, whose 1024-sample frames never fit a
	// segment exactly; with CRLF line ends, which some editors leave.
	playlist := strings.ReplaceAll(`#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:4
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="init.mp4"
#EXTINF:4.010667,
seg0.m4s
#EXTINF:3.989333,
seg1.m4s

#EXTINF:2.021333,title
seg2.m4s
#EXT-X-ENDLIST
`, "\n", "\r\n")
	segs, err := nineten.ParseMediaPlaylist(strings.NewReader(playlist))
	if err != nil {
		t.Fatal(err)
	}
	want := []nineten.Segment{
		{URI: "seg0.m4s", StartMS: 0, EndMS: 4011},
		{URI: "seg1.m4s", StartMS: 4011, EndMS: 8000},
		{URI: "seg2.m4s", StartMS: 8000, EndMS: 10021},
	}
	if !slices.Equal(segs, want) {
		t.Errorf("segments = %+v\nwant %+v", segs, want)
	}
}

func TestParseMediaPlaylistRejects(t *testing.T) {
	for name, playlist := range map[string]string{
		"empty":          "",
		"not a playlist": "seg0.m4s\n",
		"bad duration":   "#EXTM3U\n#EXTINF:four,\nseg0.m4s\n",
		"negative":       "#EXTM3U\n#EXTINF:-1,\nseg0.m4s\n",
		"master":         "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=70000,CODECS=\"opus\"\nopus64/index.m3u8\n",
		"cut short":      "#EXTM3U\n#EXTINF:4.0,\nseg0.m4s\n#EXTINF:4.0,\n",
	} {
		t.Run(name, func(t *testing.T) {
			segs, err := nineten.ParseMediaPlaylist(strings.NewReader(playlist))
			if nineten.ErrorKind(err) != nineten.KindInvalid {
				t.Errorf("ParsePlaylist = %+v, %v; want KindInvalid", segs, err)
			}
		})
	}
}
