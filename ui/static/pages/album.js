// An album: cover, details and its tracks in track-number order.
import { html } from '../html.js';
import { useFetch, useTitle } from '../hooks.js';
import { Cover, Empty, Status, TrackList } from '../components.js';
import { formatDuration, plural } from '../format.js';
import { player } from '../player.js';

export function AlbumPage({ params }) {
  const album = useFetch(`/api/v1/albums/${params.id}`);
  useTitle(album.data?.title);
  if (!album.data) return html`<div class="page"><${Status} result=${album} /></div>`;

  const a = album.data;
  const tracks = a.tracks || [];
  const total = tracks.reduce((sum, t) => sum + (t.duration_ms || 0), 0);
  return html`<div class="page">
    <header class="page-head">
      <${Cover} url=${a.cover_url} title=${a.title} size=${600} />
      <div>
        <p class="eyebrow">Album</p>
        <h1>${a.title}</h1>
        <p><a href=${`/app/artists/${a.artist_id}`}>${a.artist}</a></p>
        <p class="sub">${[a.year, a.genre, plural(tracks.length, 'track'), formatDuration(total)].filter(Boolean).join(' · ')}</p>
        <div class="actions">
          <button type="button" class="btn primary" disabled=${!tracks.length} onClick=${() => player.playQueue(tracks, 0)}>Play all</button>
          <button type="button" class="btn" disabled=${!tracks.length} onClick=${() => player.enqueue(tracks)}>Add to queue</button>
        </div>
      </div>
    </header>
    ${tracks.length === 0
      ? html`<${Empty}><p>This album has no playable tracks yet.</p></${Empty}>`
      : html`<${TrackList} tracks=${tracks} numbered showArtist=${false} />`}
  </div>`;
}
