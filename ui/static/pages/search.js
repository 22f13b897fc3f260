// Full-text search over tracks and artist names (/app/search?q=).
import { html } from '../html.js';
import { query } from '../api.js';
import { useFetch, useTitle } from '../hooks.js';
import { ArtistGrid, Empty, Status, TrackList } from '../components.js';
import { useRoute } from '../router.js';

export function Search() {
  const route = useRoute();
  const q = (new URLSearchParams(route.search).get('q') || '').trim();
  useTitle(q ? `Search: ${q}` : 'Search');
  const tracks = useFetch(q && `/api/v1/tracks${query({ q, limit: 50 })}`);
  const artists = useFetch(q && `/api/v1/artists${query({ q, limit: 12 })}`);

  if (!q) {
    return html`<div class="page">
      <h1>Search</h1>
      <${Empty}><p>Type in the search box above to find tracks and artists.</p></${Empty}>
    </div>`;
  }
  const none = tracks.data?.items.length === 0 && artists.data?.items.length === 0;
  return html`<div class="page">
    <h1>Results for “${q}”</h1>
    ${none && html`<${Empty}><p>Nothing matches “${q}”. Try fewer or different words.</p></${Empty}>`}
    <${Status} result=${artists} label="Searching artists…" />
    ${artists.data?.items.length > 0 &&
    html`<section>
      <h2>Artists</h2>
      <${ArtistGrid} artists=${artists.data.items} />
    </section>`}
    <${Status} result=${tracks} label="Searching tracks…" />
    ${tracks.data?.items.length > 0 &&
    html`<section>
      <h2>Tracks</h2>
      <${TrackList} tracks=${tracks.data.items} showAlbum />
    </section>`}
  </div>`;
}
