// Home: the newest tracks and the artists on this node.
import { html } from '../html.js';
import { useFetch, useTitle } from '../hooks.js';
import { ArtistGrid, Empty, Status, TrackList } from '../components.js';
import { hasRole, useSession } from '../session.js';
import { useRoute } from '../router.js';

export function Home() {
  useTitle('');
  const s = useSession();
  const tracks = useFetch('/api/v1/tracks?limit=12');
  const artists = useFetch('/api/v1/artists?limit=12');
  const closed = new URLSearchParams(useRoute().search).get('closed') === '1';
  return html`<div class="page">
    ${closed && html`<p class="panel" role="status" data-testid="closed-notice">Your account is closed. Thank you for listening here.</p>`}
    <section class="hero">
      <h1>Music, fairly paid.</h1>
      <p class="sub">Every listen on this node is verified and counted for the artist who made it.</p>
    </section>

    <section>
      <h2>New tracks</h2>
      <${Status} result=${tracks} label="Loading tracks…" />
      ${tracks.data?.items.length === 0 &&
      html`<${Empty}>
        <p>No music here yet.</p>
        ${hasRole(s.user, 'artist')
          ? html`<a class="btn primary" href="/app/upload">Upload your first track</a>`
          : html`<a class="btn" href="/app/become-artist">Become an artist</a>`}
      </${Empty}>`}
      ${tracks.data?.items.length > 0 && html`<${TrackList} tracks=${tracks.data.items} showAlbum />`}
    </section>

    <section>
      <div class="section-head">
        <h2>Artists</h2>
        <a href="/app/artists">All artists</a>
      </div>
      <${Status} result=${artists} label="Loading artists…" />
      ${artists.data?.items.length === 0 && html`<${Empty}><p>No artists yet.</p></${Empty}>`}
      ${artists.data?.items.length > 0 && html`<${ArtistGrid} artists=${artists.data.items} />`}
    </section>
  </div>`;
}
